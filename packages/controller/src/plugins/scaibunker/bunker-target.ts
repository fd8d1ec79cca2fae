import type { FastifyRequest } from 'fastify';
import type { Actor } from '@scaibunker/core';
import type { BunkerRow, Repositories } from '@scaibunker/db';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { actorOf } from '../../http/request-context.js';
import { noteTarget } from '../../http/tenant-scope.js';

/**
 * The bunker a request acts on, as its caller may see it (another tenant's answers
 * NOT_FOUND), noted as the audit target in its own tenant.
 */
export async function bunkerTarget(request: FastifyRequest, repos: Repositories, bunkers: BunkerService, bunkerId: string): Promise<{ actor: Actor; bunker: BunkerRow }> {
  const actor = actorOf(request);
  const bunker = await bunkers.visible(actor, bunkerId);
  noteTarget(request, 'bunker', bunker.id, await repos.tenants.get(bunker.tenant_id));
  return { actor, bunker };
}
