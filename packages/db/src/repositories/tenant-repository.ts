import type { Kysely, Selectable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import type { Database, TenantsTable } from '../schema.js';
import { insertOrConflict } from '../unique-violation.js';
import type { PageOptions, TenantScope } from './page-options.js';

export type TenantRow = Selectable<TenantsTable>;

/** Stores tenants: the owners of users, groups and bunkers. */
export class TenantRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: TenantRow): Promise<TenantRow> {
    await insertOrConflict(
      () => this.db.insertInto('tenants').values(row).execute(),
      () => new ScaiError('SLUG_CONFLICT', `A tenant with slug "${row.slug}" exists.`, { details: [{ field: 'slug', message: 'already taken' }] }),
    );
    return row;
  }

  get(id: string): Promise<TenantRow | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(scope: TenantScope, page: PageOptions): Promise<TenantRow[]> {
    let query = this.db.selectFrom('tenants').selectAll().orderBy('id').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where('id', '=', scope.tenantId);
    if ('partnerId' in scope) query = query.where('partner_id', '=', scope.partnerId);
    if (page.afterId) query = query.where('id', '>', page.afterId);
    return query.execute();
  }
}
