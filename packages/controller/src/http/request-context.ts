import type { FastifyRequest } from 'fastify';
import { ScaiError } from '@scaibunker/contracts';
import type { Actor } from '@scaibunker/core';

/** What a handler tells the audit log about the call it served. */
export interface AuditNote {
  targetKind?: string;
  targetId?: string;
  /** The tenant the target belongs to, when it is not the caller's own. */
  tenantId?: string;
  partnerId?: string;
  /** Set by the error handler when the call failed. */
  errorCode?: string;
}

/** Per-route options read by the platform hooks. */
export interface PlatformRouteConfig {
  /** Serve without an API key (health, OpenAPI). */
  public?: boolean;
  /** The audit action name of a mutating route, e.g. `user.create`. */
  auditAction?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    auditNote: AuditNote;
  }
  interface FastifyContextConfig extends PlatformRouteConfig {}
}

/** The authenticated caller; every non-public route has one by the time handlers run. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new ScaiError('AUTH_TOKEN_MISSING', 'This route needs an API key.');
  return request.actor;
}
