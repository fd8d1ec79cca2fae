import { PERMISSION_KEYS, type PermissionKey, type Role } from '@scaibunker/contracts';

const ADMIN_ONLY: readonly PermissionKey[] = ['scaibunker:admin', 'scaibunker:admin:platform'];

const TENANT_USER_KEYS: readonly PermissionKey[] = [
  'scaibunker:create',
  'scaibunker:create:session',
  'scaibunker:execute',
  'scaibunker:shell',
  'scaibunker:files',
  'scaibunker:network:registry',
];

/**
 * The default role → permission mapping (spec §2). Viewers hold no `scaibunker:*` key: every
 * key grants an action, and viewers only read, which the read routes allow by role.
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly PermissionKey[]>> = {
  super_admin: PERMISSION_KEYS,
  partner_admin: PERMISSION_KEYS.filter((k) => !ADMIN_ONLY.includes(k)),
  tenant_admin: PERMISSION_KEYS.filter((k) => !ADMIN_ONLY.includes(k)),
  tenant_user: TENANT_USER_KEYS,
  partner_viewer: [],
  tenant_viewer: [],
};

/** The keys a user effectively holds: their role's defaults plus direct grants, in catalogue order. */
export function effectivePermissions(role: Role, directGrants: readonly PermissionKey[]): PermissionKey[] {
  const held = new Set<PermissionKey>([...ROLE_PERMISSIONS[role], ...directGrants]);
  // Tenant admins implicitly hold admin:tenant whatever the mapping says (spec §2).
  if (role === 'tenant_admin' || role === 'partner_admin' || role === 'super_admin') held.add('scaibunker:admin:tenant');
  return PERMISSION_KEYS.filter((k) => held.has(k));
}
