import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { GrantBody, GrantParams, IdParams, isPermissionKey, Ok, Permissions, ScaiError, type Role } from '@scaibunker/contracts';
import { accessPolicy, effectivePermissions, ROLE_PERMISSIONS } from '@scaibunker/core';
import type { Repositories, UserRow } from '@scaibunker/db';
import { ok } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { manageableUser, visibleUser } from './managed-user.js';

/** Direct permission grants: admins grant keys they hold themselves to users they manage. */
export const permissionsRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  async function describe(user: UserRow) {
    const role = user.role as Role;
    const direct = (await repos.grants.listForUser(user.id)).filter(isPermissionKey);
    return { user_id: user.id, role, from_role: [...ROLE_PERMISSIONS[role]], direct, effective: effectivePermissions(role, direct) };
  }

  app.get('/v1/users/:id/permissions', {
    schema: { tags: ['platform'], summary: 'A user’s permissions: from role, direct, effective', params: IdParams('user'), response: withErrors({ 200: Ok(Permissions) }) },
  }, async (request) => ok(await describe((await visibleUser(repos, actorOf(request), request.params.id)).user)));

  app.post('/v1/users/:id/permissions', {
    schema: { tags: ['platform'], summary: 'Grant a permission key directly', params: IdParams('user'), body: GrantBody, response: withErrors({ 200: Ok(Permissions) }) },
    config: { auditAction: 'permission.grant' },
  }, async (request) => {
    const actor = actorOf(request);
    const { user } = await manageableUser(repos, actor, request.params.id, request);
    if (!accessPolicy.canGrant(actor, request.body.permission)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'You can only grant permission keys you hold yourself.', { details: [{ field: 'permission', message: 'not held by you' }] });
    }
    await repos.grants.grant(user.id, request.body.permission, actor.userId, new Date().toISOString());
    return ok(await describe(user));
  });

  app.delete('/v1/users/:id/permissions/:permission', {
    schema: { tags: ['platform'], summary: 'Revoke a direct grant', params: GrantParams, response: withErrors({ 200: Ok(Permissions) }) },
    config: { auditAction: 'permission.revoke' },
  }, async (request) => {
    const { user } = await manageableUser(repos, actorOf(request), request.params.id, request);
    if (!(await repos.grants.revoke(user.id, request.params.permission))) {
      throw new ScaiError('NOT_FOUND', 'The user holds no direct grant of that key.');
    }
    return ok(await describe(user));
  });
};
