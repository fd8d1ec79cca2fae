import type { Kysely } from 'kysely';
import type { ModuleSetting } from '@scaibunker/core';
import type { Database } from '../schema.js';

/** Stores module enable/disable decisions per partner and tenant, and per-tenant module config. */
export class ModuleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The settings that bear on a tenant: its own and its partner's. */
  async settingsFor(moduleId: string, tenantId: string, partnerId: string): Promise<ModuleSetting[]> {
    const rows = await this.db
      .selectFrom('module_settings')
      .select(['scope', 'enabled'])
      .where('module_id', '=', moduleId)
      .where((eb) =>
        eb.or([
          eb.and([eb('scope', '=', 'tenant'), eb('scope_id', '=', tenantId)]),
          eb.and([eb('scope', '=', 'partner'), eb('scope_id', '=', partnerId)]),
        ]),
      )
      .execute();
    return rows.map((r) => ({ scope: r.scope === 'partner' ? 'partner' : 'tenant', enabled: r.enabled !== 0 }));
  }

  async setEnabled(moduleId: string, scope: 'partner' | 'tenant', scopeId: string, enabled: boolean, at: string): Promise<void> {
    await this.db
      .insertInto('module_settings')
      .values({ module_id: moduleId, scope, scope_id: scopeId, enabled: enabled ? 1 : 0, updated_at: at })
      .onConflict((oc) => oc.columns(['module_id', 'scope', 'scope_id']).doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: at }))
      .execute();
  }

  async getConfig(moduleId: string, tenantId: string): Promise<Record<string, unknown>> {
    const row = await this.db
      .selectFrom('module_configs')
      .select('config')
      .where('module_id', '=', moduleId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.config) as Record<string, unknown>) : {};
  }

  async putConfig(moduleId: string, tenantId: string, config: Record<string, unknown>, at: string): Promise<void> {
    const json = JSON.stringify(config);
    await this.db
      .insertInto('module_configs')
      .values({ module_id: moduleId, tenant_id: tenantId, config: json, updated_at: at })
      .onConflict((oc) => oc.columns(['module_id', 'tenant_id']).doUpdateSet({ config: json, updated_at: at }))
      .execute();
  }
}
