import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateTenantBody, IdParams, Ok, Page, PageQuery, ScaiError, Tenant } from '@scaibunker/contracts';
import { accessPolicy, newId } from '@scaibunker/core';
import type { Repositories, TenantRow } from '@scaibunker/db';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { readableScope, visibleTenant, noteTarget } from '../../http/tenant-scope.js';
import { withErrors } from '../../http/route-schema.js';

const present = (row: TenantRow) => row;

/** Tenants: created by super admins and by partner admins inside their partner. */
export const tenantsRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.post('/v1/tenants', {
    schema: { tags: ['platform'], summary: 'Create a tenant', body: CreateTenantBody, response: withErrors({ 201: Ok(Tenant) }) },
    config: { auditAction: 'tenant.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    const partnerId = request.body.partner_id ?? actor.partnerId;
    if (!accessPolicy.canSeePartner(actor, partnerId) || !(await repos.partners.get(partnerId))) {
      throw new ScaiError('NOT_FOUND', 'No such partner.', { details: [{ field: 'partner_id', message: 'no such partner' }] });
    }
    if (!accessPolicy.canAdministerPartner(actor, partnerId)) {
      throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only a super admin or an admin of the partner may create tenants.');
    }
    const row = await repos.tenants.create({
      id: newId('tenant'), partner_id: partnerId, slug: request.body.slug, name: request.body.name, created_at: new Date().toISOString(),
    });
    noteTarget(request, 'tenant', row.id, row);
    return reply.status(201).send(ok(present(row)));
  });

  app.get('/v1/tenants', {
    schema: { tags: ['platform'], summary: 'List the tenants the caller can see', querystring: PageQuery, response: withErrors({ 200: Page(Tenant) }) },
  }, async (request) => {
    const { limit, afterId } = pageOptions(request.query);
    return page(await repos.tenants.list(readableScope(actorOf(request)), { afterId, limit }), limit, present);
  });

  app.get('/v1/tenants/:id', {
    schema: { tags: ['platform'], summary: 'Get a tenant', params: IdParams('tenant'), response: withErrors({ 200: Ok(Tenant) }) },
  }, async (request) => ok(present(await visibleTenant(repos, actorOf(request), request.params.id))));
};
