import { ScaiError, type Role } from '@scaibunker/contracts';
import { accessPolicy, type Actor } from '@scaibunker/core';
import type { Repositories, TenantRow, UserRow } from '@scaibunker/db';
import type { FastifyRequest } from 'fastify';
import { noteTarget, requireTenantAdmin } from '../../http/tenant-scope.js';

/** A user the actor can see, with the tenant it belongs to; anything else answers NOT_FOUND. */
export async function visibleUser(repos: Repositories, actor: Actor, userId: string): Promise<{ user: UserRow; tenant: TenantRow }> {
  const user = await repos.users.get(userId);
  const tenant = user ? await repos.tenants.get(user.tenant_id) : undefined;
  if (!user || !tenant || !accessPolicy.canSeeTenant(actor, { id: tenant.id, partnerId: tenant.partner_id })) {
    throw new ScaiError('NOT_FOUND', 'No such user.');
  }
  return { user, tenant };
}

/**
 * A user the actor may manage: an admin of the user's tenant whose own role is at least as
 * wide as the user's (a tenant admin cannot touch a partner admin who sits in the tenant).
 * Given the request, the user is noted as the audited target before the checks, so that a
 * refused call is logged against the right user and tenant.
 */
export async function manageableUser(repos: Repositories, actor: Actor, userId: string, request?: FastifyRequest): Promise<{ user: UserRow; tenant: TenantRow }> {
  const found = await visibleUser(repos, actor, userId);
  if (request) noteTarget(request, 'user', found.user.id, found.tenant);
  requireTenantAdmin(actor, found.tenant);
  if (!accessPolicy.canAssignRole(actor, found.user.role as Role)) {
    throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'That user holds a wider role than yours.');
  }
  return found;
}
