import { ROLES, type PermissionKey, type Role } from '@scaibunker/contracts';
import type { Actor, TenantRef } from './actor.js';

/**
 * Who may see and manage what across tenants. Callers that may not *see* a resource get
 * NOT_FOUND (existence is never revealed); callers that see it but may not change it get
 * AUTHZ_PERMISSION_DENIED.
 */
export const accessPolicy = {
  /** Whether the actor may read resources of the tenant at all. */
  canSeeTenant(actor: Actor, tenant: TenantRef): boolean {
    switch (actor.role) {
      case 'super_admin':
        return true;
      case 'partner_admin':
      case 'partner_viewer':
        return tenant.partnerId === actor.partnerId;
      default:
        return tenant.id === actor.tenantId;
    }
  },

  /** Whether the actor may manage users, groups, keys and module settings of the tenant. */
  canAdministerTenant(actor: Actor, tenant: TenantRef): boolean {
    switch (actor.role) {
      case 'super_admin':
        return true;
      case 'partner_admin':
        return tenant.partnerId === actor.partnerId;
      case 'tenant_admin':
        return tenant.id === actor.tenantId;
      default:
        return false;
    }
  },

  /** Whether the actor may see the partner (and list its tenants). */
  canSeePartner(actor: Actor, partnerId: string): boolean {
    return actor.role === 'super_admin' || actor.partnerId === partnerId;
  },

  /** Whether the actor may create tenants in, and set module state for, the partner. */
  canAdministerPartner(actor: Actor, partnerId: string): boolean {
    return actor.role === 'super_admin' || (actor.role === 'partner_admin' && actor.partnerId === partnerId);
  },

  /** Whether the actor may create partners. */
  canCreatePartners(actor: Actor): boolean {
    return actor.role === 'super_admin';
  },

  /** Whether the actor may read the audit log of the tenant. */
  canReadAudit(actor: Actor, tenant: TenantRef): boolean {
    return this.canAdministerTenant(actor, tenant);
  },

  /** Whether the actor may hand out a role: never one wider than their own. */
  canAssignRole(actor: Actor, role: Role): boolean {
    return roleRank(role) >= roleRank(actor.role);
  },

  /** Whether the actor may grant a key directly: only keys they hold themselves. */
  canGrant(actor: Actor, key: PermissionKey): boolean {
    return actor.permissions.has(key);
  },
};

/** 0 for super_admin, growing as the scope narrows (ROLES is ordered widest first). */
function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}
