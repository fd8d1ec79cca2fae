import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiKey, CreateApiKeyBody, CreatedApiKey, IdParams, isPermissionKey, Ok, Page, ScaiError, type Role } from '@scaibunker/contracts';
import { accessPolicy, effectivePermissions, mintApiKey, type Actor } from '@scaibunker/core';
import type { ApiKeyRow, ApiKeyScope, Repositories } from '@scaibunker/db';
import { Type } from '@sinclair/typebox';
import { Id } from '@scaibunker/contracts';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget, readableScope } from '../../http/tenant-scope.js';
import { manageableUser, visibleUser } from '../users/managed-user.js';

/** A stored key as the API shows it: never its hash. */
function present(row: ApiKeyRow): ApiKey {
  const { secret_hash: _hash, ...shown } = row;
  return shown;
}

const ApiKeyListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    user_id: Type.Optional(Id('user')),
  },
  { additionalProperties: false },
);

const isAdmin = (actor: Actor) => actor.role === 'super_admin' || actor.role === 'partner_admin' || actor.role === 'tenant_admin';

/** API keys: everyone manages their own; admins also the keys of users they manage. */
export const apiKeysRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  /** A key the actor may see: their own, or one of a user they can manage. */
  async function visibleKey(actor: Actor, id: string, manage: boolean): Promise<ApiKeyRow> {
    const key = await repos.apiKeys.get(id);
    if (!key) throw new ScaiError('NOT_FOUND', 'No such API key.');
    if (key.user_id === actor.userId) return key;
    const tenant = await repos.tenants.get(key.tenant_id);
    if (!tenant || !isAdmin(actor) || !accessPolicy.canAdministerTenant(actor, { id: tenant.id, partnerId: tenant.partner_id })) {
      throw new ScaiError('NOT_FOUND', 'No such API key.');
    }
    if (manage) await manageableUser(repos, actor, key.user_id);
    return key;
  }

  app.post('/v1/api-keys', {
    schema: {
      tags: ['platform'], summary: 'Create an API key; the secret is in this response only',
      body: CreateApiKeyBody, response: withErrors({ 201: Ok(CreatedApiKey) }),
    },
    config: { auditAction: 'api_key.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const userId = request.body.user_id ?? actor.userId;
    const { user, tenant } = userId === actor.userId ? await visibleUser(repos, actor, userId) : await manageableUser(repos, actor, userId, request);
    if (user.id !== actor.userId) {
      // A key acts with all its user's permissions: minting one must not hand the caller
      // keys (direct grants, say) they do not hold themselves.
      const grants = (await repos.grants.listForUser(user.id)).filter(isPermissionKey);
      const beyond = effectivePermissions(user.role as Role, grants).filter((key) => !actor.permissions.has(key));
      if (beyond.length > 0) {
        throw new ScaiError('AUTHZ_PERMISSION_DENIED', `That user holds permissions you do not (${beyond.join(', ')}); you cannot mint a key for them.`);
      }
    }
    const minted = mintApiKey();
    const now = new Date();
    const row = await repos.apiKeys.create({
      id: minted.id, tenant_id: user.tenant_id, user_id: user.id, name: request.body.name, secret_hash: minted.secretHash,
      created_at: now.toISOString(),
      expires_at: request.body.expires_in_s ? new Date(now.getTime() + request.body.expires_in_s * 1000).toISOString() : null,
      revoked_at: null, last_used_at: null,
    });
    noteTarget(request, 'api_key', row.id, tenant);
    return reply.status(201).send(ok({ ...present(row), secret: minted.secret }));
  });

  app.get('/v1/api-keys', {
    schema: { tags: ['platform'], summary: 'List API keys: your own, or those you administer', querystring: ApiKeyListQuery, response: withErrors({ 200: Page(ApiKey) }) },
  }, async (request) => {
    const actor = actorOf(request);
    const { limit, afterId } = pageOptions(request.query);
    let scope: ApiKeyScope;
    if (request.query.user_id) {
      if (request.query.user_id !== actor.userId) await manageableUser(repos, actor, request.query.user_id);
      scope = { userId: request.query.user_id };
    } else {
      scope = isAdmin(actor) ? readableScope(actor) : { userId: actor.userId };
    }
    return page(await repos.apiKeys.list(scope, { afterId, limit }), limit, present);
  });

  app.get('/v1/api-keys/:id', {
    schema: { tags: ['platform'], summary: 'Get an API key (never its secret)', params: IdParams('apiKey'), response: withErrors({ 200: Ok(ApiKey) }) },
  }, async (request) => ok(present(await visibleKey(actorOf(request), request.params.id, false))));

  app.delete('/v1/api-keys/:id', {
    schema: { tags: ['platform'], summary: 'Revoke an API key', params: IdParams('apiKey'), response: withErrors({ 200: Ok(ApiKey) }) },
    config: { auditAction: 'api_key.revoke' },
  }, async (request) => {
    const key = await visibleKey(actorOf(request), request.params.id, true);
    const tenant = await repos.tenants.get(key.tenant_id);
    noteTarget(request, 'api_key', key.id, tenant);
    await repos.apiKeys.revoke(key.id, new Date().toISOString());
    return ok(present((await repos.apiKeys.get(key.id))!));
  });
};
