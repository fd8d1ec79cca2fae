import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreatedWorker, CreateWorkerBody, Ok, Page, PageQuery, ScaiError, Worker, WorkerParams, type PermissionKey } from '@scaibunker/contracts';
import { mintWorkerToken, type Actor } from '@scaibunker/core';
import type { Repositories, WorkerRow, WorkerUsage } from '@scaibunker/db';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget } from '../../http/tenant-scope.js';

const NO_USAGE: WorkerUsage = { cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0, bunkers: 0 };

function requirePermission(actor: Actor, permission: PermissionKey): void {
  if (!actor.permissions.has(permission)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', `This needs ${permission}.`);
}

/** Workers (spec §6): issue a credential, list, read, drain, resume. */
export const workersRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  const tags = ['workers'];

  async function present(rows: WorkerRow[]): Promise<Worker[]> {
    const usage = await repos.workers.usage(rows.map((r) => r.id));
    return Promise.all(rows.map(async (row) => {
      const used = usage.get(row.id) ?? NO_USAGE;
      const online = row.session_id !== null;
      return {
        id: row.id, name: row.name, labels: JSON.parse(row.labels) as Record<string, string>,
        status: !online ? 'offline' as const : row.draining ? 'draining' as const : 'online' as const,
        draining: row.draining !== 0,
        capacity: { cpu_millicores: row.cpu_millicores, memory_mb: row.memory_mb, disk_mb: row.disk_mb, gpu_count: row.gpu_count },
        usage: { cpu_millicores: used.cpuMillicores, memory_mb: used.memoryMb, disk_mb: used.diskMb, gpu_count: used.gpuCount, bunkers: used.bunkers },
        gpu_type: row.gpu_type, version: row.version, accelerator: row.accelerator, network_ready: row.network_ready !== 0, images: await repos.workers.images(row.id),
        connected_at: online ? row.connected_at : null, last_heartbeat: row.last_heartbeat_at, created_at: row.created_at,
      };
    }));
  }

  async function load(id: string): Promise<WorkerRow> {
    const row = await repos.workers.get(id);
    if (!row) throw new ScaiError('NOT_FOUND', 'No such worker.');
    return row;
  }

  app.post('/workers', {
    schema: { tags, summary: 'Register a worker and issue the credential its daemon dials in with (shown once)', body: CreateWorkerBody, response: withErrors({ 201: Ok(CreatedWorker) }) },
    config: { auditAction: 'worker.create' },
  }, async (request, reply) => {
    requirePermission(actorOf(request), 'scaibunker:admin:platform');
    const minted = mintWorkerToken();
    const row = await repos.workers.create({
      id: minted.workerId, name: request.body.name, labels: JSON.stringify(request.body.labels ?? {}), token_hash: minted.tokenHash,
      draining: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0, gpu_count: 0, gpu_type: null, version: null, accelerator: null,
      session_id: null, connected_at: null, last_heartbeat_at: null, network_ready: 0, created_at: new Date().toISOString(),
    });
    noteTarget(request, 'worker', row.id);
    const [shown] = await present([row]);
    return reply.status(201).send(ok({ ...shown!, token: minted.token }));
  });

  app.get('/workers', {
    schema: { tags, summary: 'List workers with capacity, usage, heartbeat and image states', querystring: PageQuery, response: withErrors({ 200: Page(Worker) }) },
  }, async (request) => {
    requirePermission(actorOf(request), 'scaibunker:admin');
    const { limit, afterId } = pageOptions(request.query);
    const rows = await repos.workers.list({ limit, afterId });
    const shown = await present(rows);
    return page(rows.map((row, i) => ({ ...shown[i]!, id: row.id })), limit, (w) => w);
  });

  app.get('/workers/:worker_id', {
    schema: { tags, summary: 'Read a worker', params: WorkerParams, response: withErrors({ 200: Ok(Worker) }) },
  }, async (request) => {
    requirePermission(actorOf(request), 'scaibunker:admin');
    const [shown] = await present([await load(request.params.worker_id)]);
    return ok(shown!);
  });

  for (const verb of ['drain', 'resume'] as const) {
    app.post(`/workers/:worker_id/${verb}`, {
      schema: {
        tags, params: WorkerParams, response: withErrors({ 200: Ok(Worker) }),
        summary: verb === 'drain' ? 'Drain a worker: no new placements; its running bunkers stay' : 'Let a drained worker take placements again',
      },
      config: { auditAction: `worker.${verb}` },
    }, async (request) => {
      requirePermission(actorOf(request), 'scaibunker:admin');
      const row = await load(request.params.worker_id);
      noteTarget(request, 'worker', row.id);
      await repos.workers.setDraining(row.id, verb === 'drain');
      const [shown] = await present([(await repos.workers.get(row.id))!]);
      return ok(shown!);
    });
  }
};
