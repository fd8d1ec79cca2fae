import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** Stores permission keys granted to users directly, beside their role's defaults. */
export class GrantRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async listForUser(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('permission_grants').select('permission').where('user_id', '=', userId).execute();
    return rows.map((r) => r.permission);
  }

  /** Grants a key; granting one already held changes nothing. */
  async grant(userId: string, permission: string, grantedBy: string, at: string): Promise<void> {
    await this.db
      .insertInto('permission_grants')
      .values({ user_id: userId, permission, granted_by: grantedBy, created_at: at })
      .onConflict((oc) => oc.columns(['user_id', 'permission']).doNothing())
      .execute();
  }

  /** Revokes a direct grant; true when one existed. */
  async revoke(userId: string, permission: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('permission_grants')
      .where('user_id', '=', userId)
      .where('permission', '=', permission)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
