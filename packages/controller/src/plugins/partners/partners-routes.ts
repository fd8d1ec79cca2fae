import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreatePartnerBody, IdParams, Ok, Page, PageQuery, Partner, ScaiError } from '@scaibunker/contracts';
import { accessPolicy, newId } from '@scaibunker/core';
import type { PartnerRow, Repositories } from '@scaibunker/db';
import { ok, page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';

import { withErrors } from '../../http/route-schema.js';

const present = (row: PartnerRow) => row;

/** Partners: created by super admins; partner roles see their own. */
export const partnersRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.post('/v1/partners', {
    schema: { tags: ['platform'], summary: 'Create a partner', body: CreatePartnerBody, response: withErrors({ 201: Ok(Partner) }) },
    config: { auditAction: 'partner.create' },
  }, async (request, reply) => {
    const actor = actorOf(request);
    if (!accessPolicy.canCreatePartners(actor)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only a super admin may create partners.');
    const row = await repos.partners.create({ id: newId('partner'), slug: request.body.slug, name: request.body.name, created_at: new Date().toISOString() });
    request.auditNote.targetKind = 'partner';
    request.auditNote.targetId = row.id;
    request.auditNote.partnerId = row.id;
    return reply.status(201).send(ok(present(row)));
  });

  app.get('/v1/partners', {
    schema: { tags: ['platform'], summary: 'List the partners the caller can see', querystring: PageQuery, response: withErrors({ 200: Page(Partner) }) },
  }, async (request) => {
    const actor = actorOf(request);
    const { limit, afterId } = pageOptions(request.query);
    const rows = await repos.partners.list({ afterId, limit }, actor.role === 'super_admin' ? undefined : actor.partnerId);
    return page(rows, limit, present);
  });

  app.get('/v1/partners/:id', {
    schema: { tags: ['platform'], summary: 'Get a partner', params: IdParams('partner'), response: withErrors({ 200: Ok(Partner) }) },
  }, async (request) => {
    const actor = actorOf(request);
    const row = await repos.partners.get(request.params.id);
    if (!row || !accessPolicy.canSeePartner(actor, row.id)) throw new ScaiError('NOT_FOUND', 'No such partner.');
    return ok(present(row));
  });
};


