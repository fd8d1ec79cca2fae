import fp from 'fastify-plugin';
import { newId } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Writes one audit row per mutating call that reached a route, whatever its outcome: who,
 * in which tenant, which action on which target, and how it ended.
 */
export const auditHook = fp<{ repos: Repositories }>(
  async (app, { repos }) => {
    app.decorateRequest('auditNote', null as never);
    app.addHook('onRequest', async (request) => {
      request.auditNote = {};
    });
    // onSend, not onResponse: the row is written before the caller sees the answer, so a
    // client that reads the log right after a call finds it there.
    app.addHook('onSend', async (request, reply) => {
      const url = request.routeOptions.url;
      if (!MUTATING.has(request.method) || !url) return;
      const note = request.auditNote;
      const actor = request.actor;
      const failed = reply.statusCode >= 400;
      // Anonymous floods are refused by the per-address limiter; logging each refusal would
      // let anyone grow the log without bound.
      if (!actor && note.errorCode === 'RATE_LIMITED') return;
      try {
        await repos.audit.append({
          id: newId('audit'),
          at: new Date().toISOString(),
          actor_user_id: actor?.userId ?? null,
          actor_api_key_id: actor?.apiKeyId ?? null,
          // A partner-level action (no tenant noted) belongs to no tenant: never the caller's own,
          // or that tenant's admins would read about another partner.
          tenant_id: note.tenantId ?? (note.partnerId ? null : actor?.tenantId ?? null),
          partner_id: note.partnerId ?? actor?.partnerId ?? null,
          action: request.routeOptions.config.auditAction ?? `${request.method} ${url}`,
          target_kind: note.targetKind ?? null,
          target_id: note.targetId ?? null,
          outcome: failed ? 'failure' : 'success',
          status_code: reply.statusCode,
          error_code: failed ? (note.errorCode ?? null) : null,
          request_id: request.id,
        });
      } catch (error) {
        request.log.error({ err: error }, 'audit write failed');
      }
    });
  },
  { name: 'audit-hook' },
);
