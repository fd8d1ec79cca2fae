import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { BunkerNetwork, BunkerParams, EgressFlow, Ok, Page, PageQuery } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { ok } from '../../http/envelope.js';
import { withErrors } from '../../http/route-schema.js';
import { bunkerTarget } from './bunker-target.js';

/** A bunker's network (spec §8): its profile, its guest's addresses, and what it was refused. */
export const networkRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  app.get('/bunkers/:bunker_id/network', {
    schema: {
      tags: ['network'], params: BunkerParams, response: withErrors({ 200: Ok(BunkerNetwork) }),
      summary: 'A bunker’s network: profile, allowlist, the guest’s MAC and address, and the names and connections refused (DNS NXDOMAIN, firewall drops)',
    },
  }, async (request) => {
    const { bunker } = await bunkerTarget(request, repos, bunkers, request.params.bunker_id);
    return ok(await bunkers.network(bunker));
  });

  app.get('/bunkers/:bunker_id/egress-audit', {
    schema: {
      tags: ['network'], params: BunkerParams, querystring: PageQuery, response: withErrors({ 200: Page(EgressFlow) }),
      summary: 'A bunker’s egress audit, in time order: one record per flow (5-tuple, start and end, bytes each way, the DNS name, the verdict), written by its worker in batches every few seconds',
    },
  }, async (request) => {
    const { bunker } = await bunkerTarget(request, repos, bunkers, request.params.bunker_id);
    const { flows, nextCursor } = await bunkers.egressAudit(bunker, request.query.limit ?? 50, request.query.cursor);
    return { status: 'ok' as const, data: flows, has_more: nextCursor !== null, next_cursor: nextCursor };
  });
};
