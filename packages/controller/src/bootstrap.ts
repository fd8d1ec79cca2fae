import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { mintApiKey, newId } from '@scaibunker/core';
import type { Repositories, UserRow } from '@scaibunker/db';

/** The outcome of first-start bootstrap. */
export type BootstrapResult = { created: false } | { created: true; adminKeyPath: string; userId: string };

/**
 * On first start, creates the default partner and tenant and a super admin in it, and writes
 * a key for that admin to `<dataDir>/admin.key` (mode 0600). The key is never logged.
 *
 * It also runs when a super admin exists but holds no usable key (a crash between the steps
 * below, or an operator who revoked it to rotate): a fresh key is written for that admin, so
 * the platform can never be left without a way in. The file is written before the key row,
 * so a crash in between leaves only a dead file that the next start replaces.
 */
export async function bootstrapFirstStart(repos: Repositories, dataDir: string): Promise<BootstrapResult> {
  const now = new Date().toISOString();
  const existing = await repos.users.firstSuperAdmin();
  if (existing && (await repos.apiKeys.hasUsableKey(existing.id, now))) return { created: false };
  const admin = existing ?? (await createDefaultAdmin(repos, now));

  const key = mintApiKey();
  const adminKeyPath = join(dataDir, 'admin.key');
  // Created with 0600 so the key is never readable by others, not even briefly; chmod covers
  // a file that already existed with wider bits.
  const file = await open(adminKeyPath, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${key.secret}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await repos.apiKeys.create({
    id: key.id, tenant_id: admin.tenant_id, user_id: admin.id, name: 'bootstrap admin key', secret_hash: key.secretHash,
    created_at: now, expires_at: null, revoked_at: null, last_used_at: null,
  });
  return { created: true, adminKeyPath, userId: admin.id };
}

async function createDefaultAdmin(repos: Repositories, now: string): Promise<UserRow> {
  const partner = (await repos.partners.getBySlug('default'))
    ?? (await repos.partners.create({ id: newId('partner'), slug: 'default', name: 'Default partner', created_at: now }));
  const tenant = (await repos.tenants.list({ partnerId: partner.id }, { limit: 1 }))[0]
    ?? (await repos.tenants.create({ id: newId('tenant'), partner_id: partner.id, slug: 'default', name: 'Default tenant', created_at: now }));
  return repos.users.create({
    id: newId('user'), tenant_id: tenant.id, email: `admin-${newId('user').slice(4, 14)}@scaibunker.local`, display_name: 'Administrator',
    role: 'super_admin', disabled: 0, created_at: now,
  });
}
