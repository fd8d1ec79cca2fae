import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Me, Ok, ScaiError } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import { ok } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { toUserDto } from '../users/user-dto.js';

/** `GET /v1/me`: the caller's user, tenant, role and effective permissions. */
export const meRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.get('/v1/me', {
    schema: { tags: ['platform'], summary: 'Who am I: user, tenant, role, effective permissions', response: withErrors({ 200: Ok(Me) }) },
  }, async (request) => {
    const actor = actorOf(request);
    const [user, tenant] = await Promise.all([repos.users.get(actor.userId), repos.tenants.get(actor.tenantId)]);
    if (!user || !tenant) throw new ScaiError('AUTH_TOKEN_INVALID', 'The API key is not valid.');
    return ok({
      user: toUserDto(user), tenant, partner_id: actor.partnerId, api_key_id: actor.apiKeyId, role: actor.role, permissions: [...actor.permissions],
    });
  });
};
