import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { BackgroundStarted, Bunker, BunkerListQuery, BunkerParams, CreateBunkerBody, ExecBody, ExecResult, Ok, Page, ScaiError } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import { presentBunker, type BunkerService } from '../../bunkers/bunker-service.js';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget } from '../../http/tenant-scope.js';

const DeleteQuery = Type.Object({ snapshot: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

/** Bunkers (spec §4): create, list, read, delete, pause, resume, keepalive and exec. */
export const bunkersRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  const tags = ['bunkers'];

  /** Notes the bunker as the audit target, in its own tenant. */
  async function note(request: Parameters<typeof noteTarget>[0], bunkerId: string, tenantId: string): Promise<void> {
    const tenant = await repos.tenants.get(tenantId);
    noteTarget(request, 'bunker', bunkerId, tenant);
  }

  app.post('/bunkers', {
    schema: { tags, summary: 'Create a bunker; answers once it runs (or failed to start)', body: CreateBunkerBody, response: withErrors({ 201: Ok(Bunker) }) },
    config: { auditAction: 'bunker.create' },
  }, async (request, reply) => {
    const row = await bunkers.create(actorOf(request), request.body, request.id);
    await note(request, row.id, row.tenant_id);
    return reply.status(201).send(ok(presentBunker(row)));
  });

  app.get('/bunkers', {
    schema: { tags, summary: 'List bunkers: your own; your tenant’s as its admin; all with scaibunker:admin', querystring: BunkerListQuery, response: withErrors({ 200: Page(Bunker) }) },
  }, async (request) => {
    const { limit, afterId } = pageOptions(request.query);
    const rows = await bunkers.list(actorOf(request), { status: request.query.status, lifecycleMode: request.query.lifecycle }, { limit, afterId });
    return page(rows, limit, presentBunker);
  });

  app.get('/bunkers/:bunker_id', {
    schema: { tags, summary: 'Read a bunker', params: BunkerParams, response: withErrors({ 200: Ok(Bunker) }) },
  }, async (request) => ok(presentBunker(await bunkers.visible(actorOf(request), request.params.bunker_id))));

  app.delete('/bunkers/:bunker_id', {
    schema: { tags, summary: 'Terminate a bunker and free its resources', params: BunkerParams, querystring: DeleteQuery, response: withErrors({ 200: Ok(Bunker) }) },
    config: { auditAction: 'bunker.terminate' },
  }, async (request) => {
    const actor = actorOf(request);
    const bunker = await bunkers.visible(actor, request.params.bunker_id);
    await note(request, bunker.id, bunker.tenant_id);
    bunkers.requireActing(actor, bunker, 'scaibunker:create');
    if (request.query.snapshot) throw new ScaiError('NOT_SUPPORTED', 'A final snapshot on delete arrives with the snapshot step.');
    return ok(presentBunker(await bunkers.terminate(bunker.id, { actor, requestId: request.id })));
  });

  for (const [verb, summary] of [['pause', 'Pause a bunker: its VM state stays, its quota stays held'], ['resume', 'Resume a paused bunker'], ['keepalive', 'Count as activity: pushes the idle timeout back']] as const) {
    app.post(`/bunkers/:bunker_id/${verb}`, {
      schema: { tags, summary, params: BunkerParams, response: withErrors({ 200: Ok(Bunker) }) },
      config: { auditAction: `bunker.${verb}` },
    }, async (request) => {
      const actor = actorOf(request);
      const bunker = await bunkers.visible(actor, request.params.bunker_id);
      await note(request, bunker.id, bunker.tenant_id);
      if (verb === 'keepalive') return ok(presentBunker(await bunkers.keepalive(actor, bunker)));
      bunkers.requireActing(actor, bunker, 'scaibunker:create');
      return ok(presentBunker(verb === 'pause' ? await bunkers.pause(bunker) : await bunkers.resume(bunker)));
    });
  }

  app.post('/bunkers/:bunker_id/exec', {
    schema: {
      tags, params: BunkerParams, body: ExecBody,
      summary: 'Run a command: wait for it (exit code and capped output), stream it as NDJSON (Accept: application/x-ndjson), or start it in the background',
      response: withErrors({
        200: Type.Union([Ok(ExecResult), Ok(BackgroundStarted), Type.Unsafe<Readable>({ type: 'string', description: 'With Accept: application/x-ndjson, one JSON event per line: {"started":{"pid"}}, {"stdout":"…"}, {"stderr":"…"}, {"exit":{exit_code, signal, timed_out}}.' })]),
      }),
    },
    config: { auditAction: 'bunker.exec' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const bunker = await bunkers.visible(actor, request.params.bunker_id);
    await note(request, bunker.id, bunker.tenant_id);
    if (request.body.background) {
      const { pid } = await bunkers.startProcess(actor, bunker, request.body);
      return ok({ pid, background: true as const });
    }
    if (wantsNdjson(request.headers.accept)) {
      const { output } = await bunkers.startProcess(actor, bunker, request.body);
      // A client that goes away ends the stream, and the worker then kills the process.
      reply.raw.on('close', () => output!.destroy());
      return reply.type('application/x-ndjson').send(output!);
    }
    return ok(await bunkers.exec(actor, bunker, request.body));
  });
};

/** Whether an Accept header asks for NDJSON (before JSON, or alone). */
export function wantsNdjson(accept: string | undefined): boolean {
  return /application\/x-ndjson/.test(accept ?? '');
}
