import { ScaiError } from '@scaibunker/contracts';
import { newId, type Actor } from '@scaibunker/core';
import type { BridgeRow, Repositories } from '@scaibunker/db';
import type { WorkerGateway } from './worker-gateway.js';

/**
 * Transit bridges (spec §6): a tenant's L2 bridges, each made on one worker (transit bunkers
 * attached to it run there). Managing them needs scaibunker:admin; reading them, the transit
 * profile's key too. Another tenant's bridge is never visible: it answers NOT_FOUND.
 */
export class BridgeService {
  constructor(
    private readonly repos: Repositories,
    private readonly workers: WorkerGateway,
  ) {}

  async create(actor: Actor, body: { name: string; worker_id?: string | undefined }): Promise<BridgeRow> {
    requireManage(actor);
    const workerId = body.worker_id ?? await this.roomiestWorker();
    const worker = await this.repos.workers.get(workerId);
    if (!worker) throw new ScaiError('VALIDATION_ERROR', 'No such worker.', { details: [{ field: 'worker_id', message: 'no such worker' }] });
    if (worker.session_id === null) throw new ScaiError('WORKER_UNAVAILABLE', `Worker ${worker.id} is offline.`);
    if (worker.network_ready === 0) throw new ScaiError('NO_SUITABLE_WORKER', `Worker ${worker.id} has no bunker networking set up.`);
    if ((await this.repos.bridges.byNames(actor.tenantId, [body.name])).length > 0) {
      throw new ScaiError('CONFLICT', `This tenant has a bridge named "${body.name}".`, { details: [{ field: 'name', message: 'already taken in this tenant' }] });
    }
    const row: BridgeRow = { id: newId('bridge'), tenant_id: actor.tenantId, name: body.name, worker_id: worker.id, created_by: actor.userId, created_at: new Date().toISOString() };
    // Made on the worker first: a bridge that is listed exists.
    await this.workers.createBridge(worker.id, row.id);
    try {
      return await this.repos.bridges.create(row);
    } catch (error) {
      await this.workers.deleteBridge(worker.id, row.id).catch(() => undefined);
      throw error;
    }
  }

  /** The online, accepting worker that builds networks with the most free memory: where a bridge's bunkers will have room. */
  private async roomiestWorker(): Promise<string> {
    const accepting = await this.repos.workers.accepting();
    if (accepting.length === 0) throw new ScaiError('WORKER_UNAVAILABLE', 'No worker is online and accepting work to make the bridge on.');
    const workers = accepting.filter((w) => w.network_ready !== 0);
    if (workers.length === 0) throw new ScaiError('NO_SUITABLE_WORKER', 'No online worker has bunker networking set up (its host lacks nftables, or SCAIBUNKER_NETWORK=off).');
    const usage = await this.repos.workers.usage(workers.map((w) => w.id));
    const free = (w: (typeof workers)[number]) => w.memory_mb - (usage.get(w.id)?.memoryMb ?? 0);
    return workers.reduce((best, w) => (free(w) > free(best) ? w : best)).id;
  }

  async get(actor: Actor, bridgeId: string): Promise<BridgeRow> {
    requireRead(actor);
    const bridge = await this.repos.bridges.get(bridgeId, actor.tenantId);
    if (!bridge) throw new ScaiError('NOT_FOUND', 'No such bridge.');
    return bridge;
  }

  list(actor: Actor, page: { limit: number; afterId?: string | undefined }): Promise<BridgeRow[]> {
    requireRead(actor);
    return this.repos.bridges.list(actor.tenantId, page);
  }

  /** Deletes a bridge no live bunker is attached to (CONFLICT otherwise), on its worker too. */
  async delete(actor: Actor, bridgeId: string): Promise<BridgeRow> {
    requireManage(actor);
    const bridge = await this.get(actor, bridgeId);
    const attached = await this.repos.bridges.deleteIfUnused(bridge);
    if (attached.length > 0) throw new ScaiError('CONFLICT', `The bridge has ${attached.length} live bunker(s) attached (${attached.slice(0, 5).join(', ')}): delete them first.`);
    // Gone from the database first: no bunker can attach to it any more. Its (empty) namespace
    // goes next; a worker that is offline now keeps it, harmless, until deleted by hand.
    await this.workers.deleteBridge(bridge.worker_id, bridge.id).catch(() => undefined);
    return bridge;
  }
}

function requireManage(actor: Actor): void {
  if (!actor.permissions.has('scaibunker:admin')) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Managing bridges needs scaibunker:admin.');
}

function requireRead(actor: Actor): void {
  if (!actor.permissions.has('scaibunker:admin') && !actor.permissions.has('scaibunker:network:transit')) {
    throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Reading bridges needs scaibunker:network:transit (or scaibunker:admin).');
  }
}
