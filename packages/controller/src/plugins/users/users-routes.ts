import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateUserBody, IdParams, Ok, Page, ScaiError, UpdateUserBody, User, UserListQuery } from '@scaibunker/contracts';
import { accessPolicy, newId } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { listScope, noteTarget, noteTenant, requireTenantAdmin, visibleTenant } from '../../http/tenant-scope.js';
import { manageableUser, visibleUser } from './managed-user.js';
import { toUserDto } from './user-dto.js';

/** Users: tenant admins (and wider) create and manage them; every member of a tenant sees its users. */
export const usersRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.post('/v1/users', {
    schema: { tags: ['platform'], summary: 'Create a user', body: CreateUserBody, response: withErrors({ 201: Ok(User) }) },
    config: { auditAction: 'user.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const tenant = await visibleTenant(repos, actor, request.body.tenant_id ?? actor.tenantId);
    noteTenant(request, tenant);
    requireTenantAdmin(actor, tenant);
    const role = request.body.role ?? 'tenant_user';
    if (!accessPolicy.canAssignRole(actor, role)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', `You may not create a user with role ${role}.`, { details: [{ field: 'role', message: 'wider than your own role' }] });
    }
    const row = await repos.users.create({
      id: newId('user'), tenant_id: tenant.id, email: request.body.email.toLowerCase(), display_name: request.body.display_name,
      role, disabled: 0, created_at: new Date().toISOString(),
    });
    noteTarget(request, 'user', row.id, tenant);
    return reply.status(201).send(ok(toUserDto(row)));
  });

  app.get('/v1/users', {
    schema: { tags: ['platform'], summary: 'List the users the caller can see', querystring: UserListQuery, response: withErrors({ 200: Page(User) }) },
  }, async (request) => {
    const { limit, afterId } = pageOptions(request.query);
    const scope = await listScope(repos, actorOf(request), request.query.tenant_id);
    return page(await repos.users.list(scope, { afterId, limit }), limit, toUserDto);
  });

  app.get('/v1/users/:id', {
    schema: { tags: ['platform'], summary: 'Get a user', params: IdParams('user'), response: withErrors({ 200: Ok(User) }) },
  }, async (request) => ok(toUserDto((await visibleUser(repos, actorOf(request), request.params.id)).user)));

  app.patch('/v1/users/:id', {
    schema: {
      tags: ['platform'], summary: 'Change a user’s name or role, or disable them (which revokes their API keys)',
      params: IdParams('user'), body: UpdateUserBody, response: withErrors({ 200: Ok(User) }),
    },
    config: { auditAction: 'user.update' },
  }, async (request) => {
    const actor = actorOf(request);
    const { user } = await manageableUser(repos, actor, request.params.id, request);
    const { display_name, role, disabled } = request.body;
    if (user.id === actor.userId && (role !== undefined || disabled === true)) {
      throw new ScaiError('CONFLICT', 'You cannot change your own role or disable yourself.');
    }
    if (role !== undefined && !accessPolicy.canAssignRole(actor, role)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', `You may not assign role ${role}.`, { details: [{ field: 'role', message: 'wider than your own role' }] });
    }
    const now = new Date().toISOString();
    const updated = await repos.users.update(user.id, {
      ...(display_name !== undefined ? { display_name } : {}),
      ...(role !== undefined ? { role } : {}),
      ...(disabled !== undefined ? { disabled: disabled ? 1 : 0 } : {}),
    });
    if (disabled) await repos.apiKeys.revokeAllOfUser(user.id, now);
    return ok(toUserDto(updated!));
  });
};
