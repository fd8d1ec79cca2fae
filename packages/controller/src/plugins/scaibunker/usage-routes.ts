import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Ok, ScaiError, UsageQuery, UsageReport } from '@scaibunker/contracts';
import { accountUsage, type UsageSegment } from '@scaibunker/core';
import type { Repositories, TenantScope } from '@scaibunker/db';
import { ok } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { listScope } from '../../http/tenant-scope.js';

/** Roles that read a whole tenant's (or partner's, or the platform's) accounting; others read their own. */
const READS_TENANT = new Set(['super_admin', 'partner_admin', 'partner_viewer', 'tenant_admin', 'tenant_viewer']);

/**
 * Accounting (spec §2, ours): what bunkers used over a period, per bunker, user or tenant:
 * running time with the CPU, memory, disk and GPU held, and paused time apart. Computed from
 * the usage segments the bunker transitions write, so it is exact to the millisecond.
 */
export const usageRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories }> = async (app, { repos }) => {
  app.get('/usage', {
    schema: {
      tags: ['accounting'], summary: 'Usage over a period (default: this month so far), per bunker, user or tenant; running and paused time apart',
      querystring: UsageQuery, response: withErrors({ 200: Ok(UsageReport) }),
    },
  }, async (request) => {
    const actor = actorOf(request);
    const now = Date.now();
    const first = new Date(now);
    const fromMs = request.query.from ? Date.parse(request.query.from) : Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
    const toMs = request.query.to ? Date.parse(request.query.to) : now;
    if (!(fromMs < toMs)) throw new ScaiError('VALIDATION_ERROR', '`from` must be before `to`.', { details: [{ field: 'from', message: 'must be before to' }] });

    // Administrators and viewers read what their role sees (a tenant_id narrows it, and must
    // be visible); everyone else reads their own bunkers only. Filters never widen a scope.
    const wide = READS_TENANT.has(actor.role);
    if (!wide && ((request.query.tenant_id && request.query.tenant_id !== actor.tenantId) || (request.query.user_id && request.query.user_id !== actor.userId))) {
      throw new ScaiError('NOT_FOUND', 'No such tenant or user.');
    }
    const scope: TenantScope = wide ? await listScope(repos, actor, request.query.tenant_id) : { tenantId: actor.tenantId };
    const userId = wide ? request.query.user_id : actor.userId;

    const from = new Date(fromMs).toISOString();
    const to = new Date(toMs).toISOString();
    const segments = await repos.usage.segments(scope, { userId, bunkerId: request.query.bunker_id }, from, to);
    const groupBy = request.query.group_by ?? 'bunker';
    const keyOf = (s: UsageSegment) => groupBy === 'tenant' ? s.tenantId : groupBy === 'user' ? `${s.tenantId}/${s.userId}` : `${s.tenantId}/${s.userId}/${s.bunkerId}`;
    const totals = accountUsage(segments, fromMs, toMs, now, keyOf);
    const rows = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([key, t]) => {
      const [tenantId, userIdOf, bunkerId] = key.split('/');
      return { tenant_id: tenantId!, ...(userIdOf ? { user_id: userIdOf } : {}), ...(bunkerId ? { bunker_id: bunkerId } : {}), running: t.running, paused: t.paused };
    });
    return ok({ from, to, group_by: groupBy, rows });
  });
};
