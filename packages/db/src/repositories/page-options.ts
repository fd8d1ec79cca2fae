/** Keyset pagination: rows after `afterId` in id order, at most `limit` (+1 to learn has_more). */
export interface PageOptions {
  afterId?: string | undefined;
  limit: number;
}

/** Which tenants a list may read from: one tenant, a partner's tenants, or every tenant. */
export type TenantScope = { tenantId: string } | { partnerId: string } | { all: true };
