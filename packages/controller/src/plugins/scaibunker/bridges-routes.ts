import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Bridge, BridgeParams, CreateBridgeBody, Ok, Page, PageQuery } from '@scaibunker/contracts';
import type { BridgeService } from '../../bunkers/bridge-service.js';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget } from '../../http/tenant-scope.js';

/** Transit bridges (spec §6): create on a worker, list, read, delete — the caller's tenant's only. */
export const bridgesRoutes: FastifyPluginAsyncTypebox<{ bridges: BridgeService }> = async (app, { bridges }) => {
  const tags = ['bridges'];

  app.post('/bridges', {
    schema: { tags, summary: 'Create a tenant L2 bridge on a worker, for transit bunkers’ interfaces (needs scaibunker:admin)', body: CreateBridgeBody, response: withErrors({ 201: Ok(Bridge) }) },
    config: { auditAction: 'bridge.create' },
  }, async (request, reply) => {
    const row = await bridges.create(actorOf(request), request.body);
    noteTarget(request, 'bridge', row.id);
    return reply.status(201).send(ok(row));
  });

  app.get('/bridges', {
    schema: { tags, summary: 'List your tenant’s bridges', querystring: PageQuery, response: withErrors({ 200: Page(Bridge) }) },
  }, async (request) => {
    const options = pageOptions(request.query);
    return page(await bridges.list(actorOf(request), options), options.limit, (row) => row);
  });

  app.get('/bridges/:bridge_id', {
    schema: { tags, summary: 'A bridge of your tenant', params: BridgeParams, response: withErrors({ 200: Ok(Bridge) }) },
  }, async (request) => ok(await bridges.get(actorOf(request), request.params.bridge_id)));

  app.delete('/bridges/:bridge_id', {
    schema: { tags, summary: 'Delete a bridge no live bunker is attached to (needs scaibunker:admin)', params: BridgeParams, response: withErrors({ 200: Ok(Bridge) }) },
    config: { auditAction: 'bridge.delete' },
  }, async (request) => {
    noteTarget(request, 'bridge', request.params.bridge_id);
    return ok(await bridges.delete(actorOf(request), request.params.bridge_id));
  });
};
