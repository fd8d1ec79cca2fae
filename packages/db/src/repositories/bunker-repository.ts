import { sql, type Kysely, type Selectable } from 'kysely';
import { choosePlacement, type PlacementRequest, type PlacementResult, type WorkerCandidate } from '@scaibunker/core';
import type { BunkersTable, Database } from '../schema.js';
import type { PageOptions, TenantScope } from './page-options.js';
import { RESOURCE_HOLDING_STATUSES } from './worker-repository.js';

export type BunkerRow = Selectable<BunkersTable>;

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
  ) {}

  /**
   * Chooses a worker and records the bunker on it in one transaction, serialised across
   * controllers (an advisory lock on PostgreSQL, the single writer on SQLite), so concurrent
   * creates see each other's placements and never over-commit a worker.
   */
  async place(row: Omit<BunkerRow, 'worker_id'>, request: PlacementRequest): Promise<PlacementResult> {
    return this.db.transaction().execute(async (trx) => {
      if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('scaibunker.placement'))`.execute(trx);
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
          id: w.id, online: true, draining: w.draining !== 0, gpuType: w.gpu_type,
          capacity: { cpuMillicores: w.cpu_millicores, memoryMb: w.memory_mb, diskMb: w.disk_mb, gpuCount: w.gpu_count },
          used: { cpuMillicores: Number(used?.cpu ?? 0), memoryMb: Number(used?.memory ?? 0), diskMb: Number(used?.disk ?? 0), gpuCount: Number(used?.gpu ?? 0) },
          readyImages: new Set(imageRows.filter((i) => i.worker_id === w.id).map((i) => i.image)),
        };
      });
      const result = choosePlacement(request, candidates);
      if (result.ok) await trx.insertInto('bunkers').values({ ...row, worker_id: result.workerId }).execute();
      return result;
    });
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
    const result = await this.db.updateTable('bunkers').set({ status: to, updated_at: at, ...extra })
      .where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
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
