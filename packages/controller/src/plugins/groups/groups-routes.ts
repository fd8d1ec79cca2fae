import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AddGroupMemberBody, CreateGroupBody, Group, GroupMemberParams, IdParams, Ok, Page, PageQuery, ScaiError } from '@scaibunker/contracts';
import { newId, type Actor } from '@scaibunker/core';
import type { GroupWithMembers, Repositories } from '@scaibunker/db';
import type { FastifyRequest } from 'fastify';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { noteTarget, noteTenant, readableScope, requireTenantAdmin, visibleTenant } from '../../http/tenant-scope.js';

const present = (row: GroupWithMembers) => row;

/** Groups of a tenant: users and nested groups; nesting that would close a cycle is refused. */
export const groupsRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  async function visibleGroup(actor: Actor, id: string) {
    const group = await repos.groups.get(id);
    if (!group) throw new ScaiError('NOT_FOUND', 'No such group.');
    const tenant = await visibleTenant(repos, actor, group.tenant_id).catch(() => {
      throw new ScaiError('NOT_FOUND', 'No such group.');
    });
    return { group, tenant };
  }

  async function managedGroup(request: FastifyRequest, id: string) {
    const actor = actorOf(request);
    const found = await visibleGroup(actor, id);
    noteTarget(request, 'group', found.group.id, found.tenant);
    requireTenantAdmin(actor, found.tenant);
    return found;
  }

  app.post('/v1/groups', {
    schema: { tags: ['platform'], summary: 'Create a group in the caller’s tenant', body: CreateGroupBody, response: withErrors({ 201: Ok(Group) }) },
    config: { auditAction: 'group.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const tenant = await visibleTenant(repos, actor, actor.tenantId);
    noteTenant(request, tenant);
    requireTenantAdmin(actor, tenant);
    const row = await repos.groups.create({
      id: newId('group'), tenant_id: tenant.id, name: request.body.name,
      description: request.body.description ?? null, created_at: new Date().toISOString(),
    });
    noteTarget(request, 'group', row.id, tenant);
    return reply.status(201).send(ok(present(row)));
  });

  app.get('/v1/groups', {
    schema: { tags: ['platform'], summary: 'List the groups the caller can see', querystring: PageQuery, response: withErrors({ 200: Page(Group) }) },
  }, async (request) => {
    const { limit, afterId } = pageOptions(request.query);
    return page(await repos.groups.list(readableScope(actorOf(request)), { afterId, limit }), limit, present);
  });

  app.get('/v1/groups/:id', {
    schema: { tags: ['platform'], summary: 'Get a group with its direct members', params: IdParams('group'), response: withErrors({ 200: Ok(Group) }) },
  }, async (request) => ok(present((await visibleGroup(actorOf(request), request.params.id)).group)));

  app.delete('/v1/groups/:id', {
    schema: { tags: ['platform'], summary: 'Delete a group (its memberships go with it)', params: IdParams('group'), response: withErrors({ 200: Ok(Group) }) },
    config: { auditAction: 'group.delete' },
  }, async (request) => {
    const { group } = await managedGroup(request, request.params.id);
    await repos.groups.delete(group.id);
    return ok(present(group));
  });

  app.post('/v1/groups/:id/members', {
    schema: {
      tags: ['platform'], summary: 'Add a user or a nested group to a group',
      params: IdParams('group'), body: AddGroupMemberBody, response: withErrors({ 200: Ok(Group) }),
    },
    config: { auditAction: 'group.member.add' },
  }, async (request) => {
    const { group } = await managedGroup(request, request.params.id);
    const body = request.body;
    if ('user_id' in body) {
      const user = await repos.users.get(body.user_id);
      if (!user || user.tenant_id !== group.tenant_id) {
        throw new ScaiError('NOT_FOUND', 'No such user in this group’s tenant.', { details: [{ field: 'user_id', message: 'no such user in this tenant' }] });
      }
      await repos.groups.addUser(group.id, user.id);
    } else {
      const child = await repos.groups.get(body.group_id);
      if (!child || child.tenant_id !== group.tenant_id) {
        throw new ScaiError('NOT_FOUND', 'No such group in this group’s tenant.', { details: [{ field: 'group_id', message: 'no such group in this tenant' }] });
      }
      await repos.groups.addChildGroup(group.tenant_id, group.id, child.id);
    }
    return ok(present((await repos.groups.get(group.id))!));
  });

  app.delete('/v1/groups/:id/members/:member_id', {
    schema: { tags: ['platform'], summary: 'Remove a user or nested group from a group', params: GroupMemberParams, response: withErrors({ 200: Ok(Group) }) },
    config: { auditAction: 'group.member.remove' },
  }, async (request) => {
    const { group } = await managedGroup(request, request.params.id);
    if (!(await repos.groups.removeMember(group.id, request.params.member_id))) {
      throw new ScaiError('NOT_FOUND', 'That is not a member of the group.');
    }
    return ok(present((await repos.groups.get(group.id))!));
  });
};
