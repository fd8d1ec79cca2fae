import { ScaiError } from '@scaibunker/contracts';
import { accessPolicy, type Actor } from '@scaibunker/core';
import type { Repositories, TenantRow, TenantScope } from '@scaibunker/db';
import type { FastifyRequest } from 'fastify';

/** The widest set of tenants the actor may read in lists. */
export function readableScope(actor: Actor): TenantScope {
  if (actor.role === 'super_admin') return { all: true };
  if (actor.role === 'partner_admin' || actor.role === 'partner_viewer') return { partnerId: actor.partnerId };
  return { tenantId: actor.tenantId };
}

/** Narrows a list to one tenant when asked, which the actor must be able to see. */
export async function listScope(repos: Repositories, actor: Actor, tenantId: string | undefined): Promise<TenantScope> {
  if (!tenantId) return readableScope(actor);
  await visibleTenant(repos, actor, tenantId);
  return { tenantId };
}

/** Loads a tenant the actor can see; any other answers NOT_FOUND, never revealing existence. */
export async function visibleTenant(repos: Repositories, actor: Actor, tenantId: string): Promise<TenantRow> {
  const tenant = await repos.tenants.get(tenantId);
  if (!tenant || !accessPolicy.canSeeTenant(actor, { id: tenant.id, partnerId: tenant.partner_id })) {
    throw new ScaiError('NOT_FOUND', 'No such tenant.');
  }
  return tenant;
}

/** Throws NOT_FOUND unless the actor may see the tenant, FORBIDDEN unless they administer it. */
export function requireTenantAdmin(actor: Actor, tenant: TenantRow): void {
  const ref = { id: tenant.id, partnerId: tenant.partner_id };
  if (!accessPolicy.canSeeTenant(actor, ref)) throw new ScaiError('NOT_FOUND', 'No such resource.');
  if (!accessPolicy.canAdministerTenant(actor, ref)) {
    throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Only an administrator of this tenant may do that.');
  }
}

/** Records the tenant a call acts in, for the audit row (also when the call then fails). */
export function noteTenant(request: FastifyRequest, tenant: TenantRow): void {
  request.auditNote.tenantId = tenant.id;
  request.auditNote.partnerId = tenant.partner_id;
}

/** Records the audited target of a call and the tenant it belongs to. */
export function noteTarget(request: FastifyRequest, targetKind: string, targetId: string, tenant?: TenantRow): void {
  request.auditNote.targetKind = targetKind;
  request.auditNote.targetId = targetId;
  if (tenant) noteTenant(request, tenant);
}
