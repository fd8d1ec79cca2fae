import type { Kysely, Selectable } from 'kysely';
import { bucketsOf, checkQuota, choosePlacement, type ApplicableProfile, type PlacementRequest, type PlacementResult, type QuotaCaps, type QuotaRefusal, type QuotaUsage, type WorkerCandidate } from '@scaibunker/core';
import { holdPlacementLock } from '../placement-lock.js';
import type { BunkersTable, Database } from '../schema.js';
import type { PageOptions, TenantScope } from './page-options.js';
import type { CounterUndo, QuotaRepository } from './quota-repository.js';
import { RESOURCE_HOLDING_STATUSES } from './worker-repository.js';

export type BunkerRow = Selectable<BunkersTable>;

/** What a new bunker is charged against: the profiles that apply to its owner, and the platform's per-bunker ceilings. */
export interface QuotaCharge {
  applicable: readonly ApplicableProfile[];
  usage: QuotaUsage;
  ceilings: Partial<QuotaCaps>;
}

/** A placement, or the quota that refused the bunker before any worker was looked at. */
export type PlaceResult = PlacementResult
  | { ok: false; code: 'BUNKER_QUOTA_EXCEEDED'; refusal: QuotaRefusal }
  | { ok: false; code: 'CONFLICT'; reason: string };

/** Statuses in which a bunker has ended: its quota charges are released on the way in. */
const ENDED_STATUSES = new Set(['terminated', 'failed']);
/** Statuses whose time is accounted (a usage segment each). */
const METERED_STATUSES = new Set(['running', 'paused']);

/** Filters of `GET /bunkers`. */
export interface BunkerFilter {
  status?: string | undefined;
  lifecycleMode?: string | undefined;
}

/** Bunkers, and the one place where they are placed on a worker. */
export class BunkerRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly kind: 'sqlite' | 'postgres',
    /** The quota ledger (and counters) that creates charge and ends release. */
    private readonly quotas: QuotaRepository,
  ) {}

  /**
   * Checks the bunker against its quota, chooses a worker, records the bunker on it and
   * charges every bucket, in one transaction serialised across controllers (an advisory lock
   * on PostgreSQL, the single writer on SQLite): concurrent creates see each other's charges
   * and placements, so they never overshoot a cap nor over-commit a worker.
   */
  async place(row: Omit<BunkerRow, 'worker_id'>, request: PlacementRequest, quota?: QuotaCharge): Promise<PlaceResult> {
    // Redis counters changed in the transaction are changed back should it not commit.
    let undo: CounterUndo | undefined;
    return this.db.transaction().execute(async (trx) => {
      await holdPlacementLock(trx, this.kind);
      const buckets = quota ? bucketsOf(quota.applicable) : [];
      if (quota) {
        const refusal = checkQuota(quota.usage, quota.applicable, await this.quotas.usage(buckets, trx), quota.ceilings);
        if (refusal) return { ok: false as const, code: 'BUNKER_QUOTA_EXCEEDED' as const, refusal };
      }
      const workers = await trx.selectFrom('workers').selectAll().where('session_id', 'is not', null).execute();
      const ids = workers.map((w) => w.id);
      const [usageRows, imageRows] = ids.length === 0 ? [[], []] : await Promise.all([
        trx.selectFrom('bunkers')
          .select((eb) => ['worker_id', eb.fn.sum<number>('cpu_millicores').as('cpu'), eb.fn.sum<number>('memory_mb').as('memory'),
            eb.fn.sum<number>('disk_mb').as('disk'), eb.fn.sum<number>('gpu_count').as('gpu')])
          .where('worker_id', 'in', ids).where('status', 'in', RESOURCE_HOLDING_STATUSES).groupBy('worker_id').execute(),
        trx.selectFrom('worker_images').select(['worker_id', 'image']).where('worker_id', 'in', ids).where('state', '=', 'ready').execute(),
      ]);
      const candidates: WorkerCandidate[] = workers.map((w) => {
        const used = usageRows.find((u) => u.worker_id === w.id);
        return {
          id: w.id, online: true, draining: w.draining !== 0, gpuType: w.gpu_type, networkReady: w.network_ready !== 0,
          capacity: { cpuMillicores: w.cpu_millicores, memoryMb: w.memory_mb, diskMb: w.disk_mb, gpuCount: w.gpu_count },
          used: { cpuMillicores: Number(used?.cpu ?? 0), memoryMb: Number(used?.memory ?? 0), diskMb: Number(used?.disk ?? 0), gpuCount: Number(used?.gpu ?? 0) },
          readyImages: new Set(imageRows.filter((i) => i.worker_id === w.id).map((i) => i.image)),
        };
      });
      // A transit bunker's bridges and MACs were checked before: checked again under the lock,
      // which a bridge's deletion holds too, so neither can change between check and insert.
      const transit = await this.transitConflict(trx, row);
      if (transit) return { ok: false as const, code: 'CONFLICT' as const, reason: transit };
      const result = choosePlacement(request, candidates);
      if (result.ok) {
        // Placed in the same transaction it is stored in: a stored bunker is born provisioning.
        await trx.insertInto('bunkers').values({ ...row, status: 'provisioning', worker_id: result.workerId }).execute();
        if (quota) undo = await this.quotas.charge(trx, row.id, buckets, quota.usage, row.created_at);
      }
      return result;
    }).catch(async (error: unknown) => {
      await undo?.();
      throw error;
    });
  }

  /** Why a transit bunker cannot be stored now (a bridge gone, a MAC taken meanwhile), if it cannot. */
  private async transitConflict(trx: Kysely<Database>, row: Omit<BunkerRow, 'worker_id'>): Promise<string | undefined> {
    if (!row.interfaces) return undefined;
    const interfaces = JSON.parse(row.interfaces) as { bridge_id: string; mac: string }[];
    const bridgeIds = [...new Set(interfaces.map((i) => i.bridge_id))];
    const bridges = await trx.selectFrom('bridges').select('id').where('id', 'in', bridgeIds).execute();
    if (bridges.length !== bridgeIds.length) return 'A bridge of its interfaces was deleted meanwhile.';
    const live = await trx.selectFrom('bunkers').select('interfaces')
      .where('network_profile', '=', 'transit').where('status', 'in', RESOURCE_HOLDING_STATUSES).execute();
    const taken = new Set(live.flatMap((b) => (JSON.parse(b.interfaces ?? '[]') as { bridge_id: string; mac: string }[]).map((i) => `${i.bridge_id} ${i.mac}`)));
    if (interfaces.some((i) => taken.has(`${i.bridge_id} ${i.mac}`))) return 'A MAC of its interfaces was taken on its bridge meanwhile.';
    return undefined;
  }

  get(id: string, scope: TenantScope): Promise<BunkerRow | undefined> {
    let query = this.db.selectFrom('bunkers').selectAll('bunkers').where('bunkers.id', '=', id);
    if ('tenantId' in scope) query = query.where('bunkers.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) query = query.innerJoin('tenants', 'tenants.id', 'bunkers.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    return query.executeTakeFirst();
  }

  list(scope: TenantScope & { ownerUserId?: string }, filter: BunkerFilter, page: PageOptions): Promise<BunkerRow[]> {
    let query = this.db.selectFrom('bunkers').selectAll('bunkers').orderBy('bunkers.id').limit(page.limit + 1);
    if ('tenantId' in scope) query = query.where('bunkers.tenant_id', '=', scope.tenantId);
    if ('partnerId' in scope) query = query.innerJoin('tenants', 'tenants.id', 'bunkers.tenant_id').where('tenants.partner_id', '=', scope.partnerId);
    if (scope.ownerUserId) query = query.where('bunkers.owner_user_id', '=', scope.ownerUserId);
    if (filter.status) query = query.where('bunkers.status', '=', filter.status);
    if (filter.lifecycleMode) query = query.where('bunkers.lifecycle_mode', '=', filter.lifecycleMode);
    if (page.afterId) query = query.where('bunkers.id', '>', page.afterId);
    return query.execute();
  }

  /**
   * Moves a bunker to `to` only from one of `from` (compare-and-set), so a late report never
   * resurrects a terminated bunker. Returns whether the row changed.
   */
  async transition(id: string, from: readonly string[], to: string, at: string, extra: Partial<Pick<BunkerRow, 'failure_reason' | 'started_at' | 'ended_at'>> = {}): Promise<boolean> {
    const move = (db: Kysely<Database>) => db.updateTable('bunkers').set({ status: to, updated_at: at, ...extra })
      .where('id', '=', id).where('status', 'in', from)
      .returning(['tenant_id', 'owner_user_id', 'cpu_millicores', 'memory_mb', 'disk_mb', 'gpu_count']).executeTakeFirst();
    if (!ENDED_STATUSES.has(to) && !METERED_STATUSES.has(to)) return (await move(this.db)) !== undefined;
    // The books move with the status, in one transaction: the usage segment of the state left
    // is closed and the next one opened, and ending releases the quota charges. Whoever makes
    // the transition (a request, the reaper, a lost worker), it happens exactly once.
    let undo: CounterUndo | undefined;
    return this.db.transaction().execute(async (trx) => {
      if (ENDED_STATUSES.has(to) && this.quotas.releasesHoldPlacementLock) await holdPlacementLock(trx, this.kind);
      const b = await move(trx);
      if (!b) return false;
      if (from.some((status) => METERED_STATUSES.has(status))) {
        await trx.updateTable('usage_segments').set({ ended_at: at }).where('bunker_id', '=', id).where('ended_at', 'is', null).execute();
      }
      if (METERED_STATUSES.has(to)) {
        await trx.insertInto('usage_segments').values({
          bunker_id: id, tenant_id: b.tenant_id, user_id: b.owner_user_id, state: to, started_at: at, ended_at: null,
          cpu_millicores: b.cpu_millicores, memory_mb: b.memory_mb, disk_mb: b.disk_mb, gpu_count: b.gpu_count,
        }).execute();
      }
      if (ENDED_STATUSES.has(to)) undo = await this.quotas.release(trx, id, at);
      return true;
    }).catch(async (error: unknown) => {
      await undo?.();
      throw error;
    });
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('bunkers').set({ last_activity_at: at }).where('id', '=', id).where('last_activity_at', '<', at).execute();
  }

  /** Bunkers that hold resources, on one worker or on all. */
  live(workerId?: string): Promise<BunkerRow[]> {
    let query = this.db.selectFrom('bunkers').selectAll().where('status', 'in', RESOURCE_HOLDING_STATUSES).orderBy('id');
    if (workerId) query = query.where('worker_id', '=', workerId);
    return query.execute();
  }
}
