/** Every `scaibunker:*` permission key with what it grants (spec §3). */
export const PERMISSION_CATALOGUE = {
  'scaibunker:create': 'Create ephemeral bunkers; list/read own bunkers; read images and availability groups; read own quota usage.',
  'scaibunker:create:session': 'Create `session` bunkers.',
  'scaibunker:create:persistent': 'Create `persistent` bunkers.',
  'scaibunker:execute': 'Run commands in own bunkers.',
  'scaibunker:shell': 'Open the WebSocket PTY.',
  'scaibunker:files': 'Read, write, list and delete files in own bunkers.',
  'scaibunker:root': 'Run commands as root inside the bunker.',
  'scaibunker:network:registry': 'Use the `registry` network profile.',
  'scaibunker:network:allowlisted': 'Use the `allowlisted` network profile.',
  'scaibunker:network:unrestricted': 'Use the `unrestricted` network profile.',
  'scaibunker:network:transit': 'Use the `transit` network profile.',
  'scaibunker:l2_transparency': 'Disable `spoof_guard` on transit interfaces (always audit-logged).',
  'scaibunker:images:manage': 'Register, deactivate, scan and warm images; mint storage capabilities.',
  'scaibunker:admin': 'List all bunkers platform-wide; drain and resume workers; manage bridges.',
  'scaibunker:admin:tenant': 'Tenant-scoped quota profiles and availability groups.',
  'scaibunker:admin:platform': 'Platform-default quota profiles, platform availability groups, all-tenant worker management.',
} as const;

/** A `scaibunker:*` permission key. */
export type PermissionKey = keyof typeof PERMISSION_CATALOGUE;

/** All permission keys, in catalogue order. */
export const PERMISSION_KEYS = Object.keys(PERMISSION_CATALOGUE) as PermissionKey[];

/** The six built-in roles, from the widest to the narrowest scope. */
export const ROLES = [
  'super_admin',
  'partner_admin',
  'partner_viewer',
  'tenant_admin',
  'tenant_user',
  'tenant_viewer',
] as const;

/** A built-in role. */
export type Role = (typeof ROLES)[number];

/** Whether a string is a permission key. */
export function isPermissionKey(value: string): value is PermissionKey {
  return Object.hasOwn(PERMISSION_CATALOGUE, value);
}
