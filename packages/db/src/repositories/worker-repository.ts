import type { Kysely, Selectable } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { insertOrConflict } from '../unique-violation.js';
import type { Database, WorkersTable } from '../schema.js';
import type { PageOptions } from './page-options.js';

export type WorkerRow = Selectable<WorkersTable>;

/** What a worker reports about itself when its link comes up. */
export interface WorkerRegistration {
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  gpuCount: number;
  gpuType: string | null;
  version: string;
  accelerator: string;
  /** The worker builds bunker networks (networked profiles can be placed on it). */
  networkReady?: boolean;
  /** Image name → state (`ready`, `pulling`, `failed`). */
  images: Record<string, string>;
}

/** The resources a worker's live bunkers hold. */
export interface WorkerUsage { cpuMillicores: number; memoryMb: number; diskMb: number; gpuCount: number; bunkers: number }

/** Statuses whose bunkers hold capacity on their worker. */
export const RESOURCE_HOLDING_STATUSES = ['pending', 'provisioning', 'running', 'paused'] as const;

/** Workers, their link sessions and image states. */
export class WorkerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Names are unique: a taken one answers CONFLICT. */
  async create(row: WorkerRow): Promise<WorkerRow> {
    await insertOrConflict(
      () => this.db.insertInto('workers').values(row).execute(),
      () => new ScaiError('CONFLICT', `A worker named "${row.name}" exists.`, { details: [{ field: 'name', message: 'already taken' }] }),
    );
    return row;
  }

  get(id: string): Promise<WorkerRow | undefined> {
    return this.db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(page: PageOptions): Promise<WorkerRow[]> {
    let query = this.db.selectFrom('workers').selectAll().orderBy('id').limit(page.limit + 1);
    if (page.afterId) query = query.where('id', '>', page.afterId);
    return query.execute();
  }

  async images(workerId: string): Promise<Record<string, string>> {
    const rows = await this.db.selectFrom('worker_images').select(['image', 'state']).where('worker_id', '=', workerId).orderBy('image').execute();
    return Object.fromEntries(rows.map((r) => [r.image, r.state]));
  }

  async usage(workerIds: readonly string[]): Promise<Map<string, WorkerUsage>> {
    if (workerIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('bunkers')
      .select((eb) => [
        'worker_id',
        eb.fn.sum<number>('cpu_millicores').as('cpu'), eb.fn.sum<number>('memory_mb').as('memory'),
        eb.fn.sum<number>('disk_mb').as('disk'), eb.fn.sum<number>('gpu_count').as('gpu'), eb.fn.countAll<number>().as('count'),
      ])
      .where('worker_id', 'in', workerIds)
      .where('status', 'in', RESOURCE_HOLDING_STATUSES)
      .groupBy('worker_id')
      .execute();
    const usage = new Map<string, WorkerUsage>();
    for (const r of rows) {
      usage.set(r.worker_id!, { cpuMillicores: Number(r.cpu), memoryMb: Number(r.memory), diskMb: Number(r.disk), gpuCount: Number(r.gpu), bunkers: Number(r.count) });
    }
    return usage;
  }

  /** Records a (re)connected worker: its capacity, versions and images, under a new link session. */
  async register(id: string, sessionId: string, report: WorkerRegistration, at: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('workers').set({
        cpu_millicores: report.cpuMillicores, memory_mb: report.memoryMb, disk_mb: report.diskMb, gpu_count: report.gpuCount,
        gpu_type: report.gpuType, version: report.version, accelerator: report.accelerator, network_ready: report.networkReady ? 1 : 0,
        session_id: sessionId, connected_at: at, last_heartbeat_at: at,
      }).where('id', '=', id).execute();
      await trx.deleteFrom('worker_images').where('worker_id', '=', id).execute();
      const images = Object.entries(report.images);
      if (images.length > 0) {
        await trx.insertInto('worker_images').values(images.map(([image, state]) => ({ worker_id: id, image, state, updated_at: at }))).execute();
      }
    });
  }

  /** A heartbeat counts only for the session that sent it: a replaced link's late beat is ignored. */
  async heartbeat(id: string, sessionId: string, at: string): Promise<boolean> {
    const result = await this.db.updateTable('workers').set({ last_heartbeat_at: at }).where('id', '=', id).where('session_id', '=', sessionId).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Marks a worker offline, unless a newer link session took over meanwhile. */
  async disconnect(id: string, sessionId: string): Promise<void> {
    await this.db.updateTable('workers').set({ session_id: null }).where('id', '=', id).where('session_id', '=', sessionId).execute();
  }

  /** Workers connected now and taking new work (not draining), by id. */
  accepting(): Promise<WorkerRow[]> {
    return this.db.selectFrom('workers').selectAll().where('session_id', 'is not', null).where('draining', '=', 0).orderBy('id').execute();
  }

  /** Workers whose last heartbeat is older than `before` and that still count as connected. */
  stale(before: string): Promise<WorkerRow[]> {
    return this.db.selectFrom('workers').selectAll().where('session_id', 'is not', null).where('last_heartbeat_at', '<', before).execute();
  }

  async setTokenHash(id: string, tokenHash: string): Promise<void> {
    await this.db.updateTable('workers').set({ token_hash: tokenHash }).where('id', '=', id).execute();
  }

  async setDraining(id: string, draining: boolean): Promise<void> {
    await this.db.updateTable('workers').set({ draining: draining ? 1 : 0 }).where('id', '=', id).execute();
  }

  async setImageState(workerId: string, image: string, state: string, at: string): Promise<void> {
    await this.db.insertInto('worker_images').values({ worker_id: workerId, image, state, updated_at: at })
      .onConflict((oc) => oc.columns(['worker_id', 'image']).doUpdateSet({ state, updated_at: at }))
      .execute();
  }
}
