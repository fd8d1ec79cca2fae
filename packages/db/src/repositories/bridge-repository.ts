import type { Kysely, Selectable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { holdPlacementLock } from '../placement-lock.js';
import { insertOrConflict } from '../unique-violation.js';
import type { BridgesTable, Database } from '../schema.js';
import { RESOURCE_HOLDING_STATUSES } from './worker-repository.js';

export type BridgeRow = Selectable<BridgesTable>;

/** Transit bridges: one tenant's each, on one worker. */
export class BridgeRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
  ) {}

  /** Names are unique within a tenant: a taken one answers CONFLICT. */
  async create(row: BridgeRow): Promise<BridgeRow> {
    await insertOrConflict(
      () => this.db.insertInto('bridges').values(row).execute(),
      () => new ScaiError('CONFLICT', `This tenant has a bridge named "${row.name}".`, { details: [{ field: 'name', message: 'already taken in this tenant' }] }),
    );
    return row;
  }

  /** A bridge of the tenant (undefined for another tenant's: never visible across tenants). */
  get(id: string, tenantId: string): Promise<BridgeRow | undefined> {
    return this.db.selectFrom('bridges').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
  }

  /** The tenant's bridges of these names. */
  byNames(tenantId: string, names: readonly string[]): Promise<BridgeRow[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('bridges').selectAll().where('tenant_id', '=', tenantId).where('name', 'in', [...names]).execute();
  }

  list(tenantId: string, options: { limit: number; afterId?: string | undefined }): Promise<BridgeRow[]> {
    let query = this.db.selectFrom('bridges').selectAll().where('tenant_id', '=', tenantId);
    if (options.afterId) query = query.where('id', '>', options.afterId);
    return query.orderBy('id').limit(options.limit + 1).execute();
  }

  /** The MACs live bunkers have on each of these bridges. */
  async macsInUse(bridgeIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const inUse = new Map<string, Set<string>>(bridgeIds.map((id) => [id, new Set<string>()]));
    if (bridgeIds.length === 0) return inUse;
    const rows = await this.db.selectFrom('bunkers').select('interfaces')
      .where('network_profile', '=', 'transit').where('status', 'in', RESOURCE_HOLDING_STATUSES).execute();
    for (const row of rows) {
      for (const i of JSON.parse(row.interfaces ?? '[]') as { bridge_id: string; mac: string }[]) inUse.get(i.bridge_id)?.add(i.mac);
    }
    return inUse;
  }

  /**
   * Deletes a bridge no live bunker is attached to, under the placement lock (a transit create
   * checks its bridges under it too): answers the attached bunkers' ids instead when there are any.
   */
  async deleteIfUnused(bridge: BridgeRow): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      await holdPlacementLock(trx, this.kind);
      const attached = await attachedBunkers(trx, bridge);
      if (attached.length === 0) await trx.deleteFrom('bridges').where('id', '=', bridge.id).execute();
      return attached;
    });
  }
}

/** Ids of the live bunkers attached to a bridge (their interfaces name it). */
async function attachedBunkers(db: Kysely<Database>, bridge: BridgeRow): Promise<string[]> {
  const rows = await db.selectFrom('bunkers').select(['id', 'interfaces'])
    .where('tenant_id', '=', bridge.tenant_id).where('network_profile', '=', 'transit')
    .where('status', 'in', RESOURCE_HOLDING_STATUSES).execute();
  return rows.filter((row) => (JSON.parse(row.interfaces ?? '[]') as { bridge_id: string }[]).some((i) => i.bridge_id === bridge.id)).map((row) => row.id);
}
