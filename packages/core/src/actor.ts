import type { PermissionKey, Role } from '@scaibunker/contracts';

/** The authenticated caller of a request: who, in which tenant and partner, holding what. */
export interface Actor {
  userId: string;
  tenantId: string;
  partnerId: string;
  apiKeyId: string;
  role: Role;
  permissions: ReadonlySet<PermissionKey>;
}

/** Where a tenant sits, for scope checks. */
export interface TenantRef {
  id: string;
  partnerId: string;
}
