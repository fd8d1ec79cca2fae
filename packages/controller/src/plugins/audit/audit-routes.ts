import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditEntry, AuditQuery, Page, ScaiError } from '@scaibunker/contracts';
import type { AuditRow, Repositories } from '@scaibunker/db';
import { page, pageOptions } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { readableScope, requireTenantAdmin, visibleTenant } from '../../http/tenant-scope.js';

const ADMIN_ROLES = new Set(['super_admin', 'partner_admin', 'tenant_admin']);

function present(row: AuditRow): AuditEntry {
  return { ...row, outcome: row.outcome === 'success' ? 'success' : 'failure' };
}

/** The audit log, newest first: super admins see all, partner admins their partner, tenant admins their tenant. */
export const auditRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.get('/v1/audit', {
    schema: { tags: ['platform'], summary: 'Read the audit log (admins only)', querystring: AuditQuery, response: withErrors({ 200: Page(AuditEntry) }) },
  }, async (request) => {
    const actor = actorOf(request);
    if (!ADMIN_ROLES.has(actor.role)) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only administrators may read the audit log.');
    const { tenant_id, action } = request.query;
    if (tenant_id) requireTenantAdmin(actor, await visibleTenant(repos, actor, tenant_id));
    const { limit, afterId } = pageOptions(request.query);
    return page(await repos.audit.list(readableScope(actor), { tenantId: tenant_id, action }, { afterId, limit }), limit, present);
  });
};
