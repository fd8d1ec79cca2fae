import { newId, usageOf } from '@scaibunker/core';
import type { RedisQuotaCounters } from '../quota-counters.js';
import { createRepositories, type BunkerRow, type QuotaProfileRow, type Repositories } from '../repositories/index.js';
import { createTestDatabase } from './test-database.js';

/** A test database as createTestDatabase opens it. */
type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const at = () => new Date().toISOString();

const NO_CAPS = {
  max_concurrent_bunkers: null, max_persistent_bunkers: null, max_cpu_millicores: null, max_memory_mb: null, max_disk_mb: null, max_gpu_count: null,
  per_bunker_max_cpu: null, per_bunker_max_memory: null, per_bunker_max_disk: null, per_bunker_max_gpu: null,
};

/** The small bunker quota tests place: what its create asks of placement, and what it charges. */
export const SMALL_BUNKER = {
  request: { image: 'minimal', cpuMillicores: 100, memoryMb: 128, diskMb: 256, gpuCount: 0, gpuType: null, lazyPull: false },
  usage: usageOf({ cpuMillicores: 100, memoryMb: 128, diskMb: 256, gpuCount: 0, persistent: false }),
};

/**
 * A tenant, and one online worker with `minimal` ready and room for any number of small
 * bunkers: where quota is the only thing that can refuse a create.
 */
export async function seedQuotaTenant(repos: Repositories, slug: string): Promise<string> {
  const partner = await repos.partners.create({ id: newId('partner'), slug: `${slug}-p`, name: slug, created_at: at() });
  const tenantId = newId('tenant');
  await repos.tenants.create({ id: tenantId, partner_id: partner.id, slug, name: slug, created_at: at() });
  const workerId = newId('worker');
  await repos.workers.create({
    id: workerId, name: `${slug}-w`, labels: '{}', token_hash: 'x', draining: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0,
    gpu_count: 0, gpu_type: null, version: null, accelerator: null, session_id: null, connected_at: null, last_heartbeat_at: null, network_ready: 0, created_at: at(),
  });
  await repos.workers.register(workerId, 's', { cpuMillicores: 1_000_000, memoryMb: 1_000_000, diskMb: 10_000_000, gpuCount: 0, gpuType: null, version: 't', accelerator: 'tcg', images: { minimal: 'ready' } }, at());
  return tenantId;
}

/** A fresh database of the suite's kind, its repositories (with Redis `counters`, if given), and a tenant seeded as above. */
export async function openSeededDatabase(slug: string, counters?: RedisQuotaCounters): Promise<{ handle: TestDatabase; repos: Repositories; tenantId: string }> {
  const handle = await createTestDatabase();
  try {
    const repos = createRepositories(handle.db, handle.kind, counters);
    return { handle, repos, tenantId: await seedQuotaTenant(repos, slug) };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export async function addTenantUser(repos: Repositories, tenantId: string): Promise<string> {
  const id = newId('user');
  await repos.users.create({ id, tenant_id: tenantId, email: `${id}@example.test`, display_name: 'U', role: 'tenant_user', disabled: 0, created_at: at() });
  return id;
}

/** A profile with only the caps given (`tenantId` null: a platform profile). */
export function addQuotaProfile(repos: Repositories, tenantId: string | null, name: string, caps: Partial<QuotaProfileRow> = {}): Promise<QuotaProfileRow> {
  return repos.quotas.createProfile({ id: newId('quotaProfile'), tenant_id: tenantId, name, description: null, ...NO_CAPS, ...caps, created_at: at(), updated_at: at() });
}

/** A small bunker's row as a create builds it, before placement. */
export function smallBunkerRow(tenantId: string, ownerUserId: string): Omit<BunkerRow, 'worker_id'> {
  return {
    id: newId('bunker'), tenant_id: tenantId, owner_user_id: ownerUserId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral',
    network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null, cpu_millicores: 100, memory_mb: 128, disk_mb: 256, gpu_count: 0, gpu_type: null,
    max_lifetime_s: 900, idle_timeout_s: 300, session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}',
    status: 'pending', failure_reason: null, created_at: at(), updated_at: at(), started_at: null, last_activity_at: at(), ended_at: null,
  };
}
