import type { Kysely, Selectable, Updateable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import type { Database, UsersTable } from '../schema.js';
import { insertOrConflict } from '../unique-violation.js';
import type { PageOptions, TenantScope } from './page-options.js';

export type UserRow = Selectable<UsersTable>;

/** Stores users; a user belongs to exactly one tenant. */
export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: UserRow): Promise<UserRow> {
    await insertOrConflict(
      () => this.db.insertInto('users').values(row).execute(),
      () => new ScaiError('CONFLICT', `A user with email "${row.email}" exists in this tenant.`, { details: [{ field: 'email', message: 'already taken in this tenant' }] }),
    );
    return row;
  }

  get(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(scope: TenantScope, page: PageOptions): Promise<UserRow[]> {
    let query = this.db.selectFrom('users').selectAll('users').orderBy('users.id').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where('users.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) {
      query = query.innerJoin('tenants', 'tenants.id', 'users.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    }
    if (page.afterId) query = query.where('users.id', '>', page.afterId);
    return query.execute();
  }

  async update(id: string, patch: Updateable<UsersTable>): Promise<UserRow | undefined> {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
    return this.get(id);
  }

  /** The oldest enabled super admin, if any (first-start bootstrap keys off this). */
  firstSuperAdmin(): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'super_admin')
      .where('disabled', '=', 0)
      .orderBy('id')
      .executeTakeFirst();
  }
}
