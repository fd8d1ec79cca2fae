import type { Kysely, Selectable } from 'kysely';
import type { ApiKeysTable, Database } from '../schema.js';
import type { PageOptions } from './page-options.js';

export type ApiKeyRow = Selectable<ApiKeysTable>;

/** What authentication needs in one read: the key, its user and the user's tenant. */
export interface ApiKeyPrincipal {
  key: ApiKeyRow;
  userRole: string;
  userDisabled: boolean;
  partnerId: string;
}

/** Which keys a list may read: one user's, one tenant's, or a partner's tenants'. */
export type ApiKeyScope = { userId: string } | { tenantId: string } | { partnerId: string } | { all: true };

/** Stores API keys by id with the SHA-256 of their secret; the secret itself is never stored. */
export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: ApiKeyRow): Promise<ApiKeyRow> {
    await this.db.insertInto('api_keys').values(row).execute();
    return row;
  }

  get(id: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findPrincipal(id: string): Promise<ApiKeyPrincipal | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .innerJoin('tenants', 'tenants.id', 'users.tenant_id')
      .selectAll('api_keys')
      .select(['users.role as user_role', 'users.disabled as user_disabled', 'tenants.partner_id as partner_id'])
      .where('api_keys.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const { user_role, user_disabled, partner_id, ...key } = row;
    return { key, userRole: user_role, userDisabled: user_disabled !== 0, partnerId: partner_id };
  }

  list(scope: ApiKeyScope, page: PageOptions): Promise<ApiKeyRow[]> {
    let query = this.db.selectFrom('api_keys').selectAll('api_keys').orderBy('api_keys.id').limit(page.limit + 1);
    if ('userId' in scope) query = query.where('api_keys.user_id', '=', scope.userId);
    if ('tenantId' in scope) query = query.where('api_keys.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) {
      query = query.innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    }
    if (page.afterId) query = query.where('api_keys.id', '>', page.afterId);
    return query.execute();
  }

  /** Revokes a key; revoking a revoked key keeps its first revocation time. */
  async revoke(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  async revokeAllOfUser(userId: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  /** Whether the user holds a key that is neither revoked nor expired at `at`. */
  async hasUsableKey(userId: string, at: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('api_keys')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
      .executeTakeFirst();
    return row !== undefined;
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
