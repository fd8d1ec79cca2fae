import type { Kysely, Selectable } from 'kysely';
import type { AuditLogTable, Database } from '../schema.js';
import type { PageOptions, TenantScope } from './page-options.js';

export type AuditRow = Selectable<AuditLogTable>;

/** Filters of an audit read besides its scope. */
export interface AuditFilter {
  tenantId?: string | undefined;
  action?: string | undefined;
}

/** Appends to and reads the platform audit log; rows are never changed once written. */
export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(row: AuditRow): Promise<void> {
    await this.db.insertInto('audit_log').values(row).execute();
  }

  /** Newest first; the cursor continues with older rows. */
  list(scope: TenantScope, filter: AuditFilter, page: PageOptions): Promise<AuditRow[]> {
    let query = this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where('tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) query = query.where('partner_id', '=', scope.partnerId);
    if (filter.tenantId) query = query.where('tenant_id', '=', filter.tenantId);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (page.afterId) query = query.where('id', '<', page.afterId);
    return query.execute();
  }
}
