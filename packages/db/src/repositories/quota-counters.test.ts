import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, usageOf } from '@scaibunker/core';
import { RedisQuotaCounters } from '../quota-counters.js';
import { createTestDatabase } from '../testing/index.js';
import { createRepositories, type Repositories } from './index.js';
import type { BunkerRow } from './bunker-repository.js';

const REDIS_URL = process.env.SCAIBUNKER_TEST_REDIS_URL;

/**
 * Quota charging with Redis counters (SCAIBUNKER_REDIS_URL), against a real Redis that
 * `npm test` starts (scripts/ensure-redis.sh) and the real database: as exact as the ledger,
 * rebuilt from it at start.
 */
describe.skipIf(!REDIS_URL)('quota charges with Redis counters', () => {
  let handle: Awaited<ReturnType<typeof createTestDatabase>>;
  let counters: RedisQuotaCounters;
  let repos: Repositories;
  let tenantId: string;
  const at = () => new Date().toISOString();
  const request = { image: 'minimal', cpuMillicores: 100, memoryMb: 128, diskMb: 256, gpuCount: 0, gpuType: null, lazyPull: false };
  const usage = usageOf({ cpuMillicores: 100, memoryMb: 128, diskMb: 256, gpuCount: 0, persistent: false });

  beforeAll(async () => {
    handle = await createTestDatabase();
    // A prefix of its own: the two database passes and other runs never share counters.
    counters = await RedisQuotaCounters.connect(REDIS_URL!, `scaibunker-test-${randomBytes(6).toString('hex')}:`);
    repos = createRepositories(handle.db, handle.kind, counters);
    const partner = await repos.partners.create({ id: newId('partner'), slug: 'rp', name: 'RP', created_at: at() });
    tenantId = newId('tenant');
    await repos.tenants.create({ id: tenantId, partner_id: partner.id, slug: 'rt', name: 'RT', created_at: at() });
    const workerId = newId('worker');
    await repos.workers.create({
      id: workerId, name: 'rw', labels: '{}', token_hash: 'x', draining: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0,
      gpu_count: 0, gpu_type: null, version: null, accelerator: null, session_id: null, connected_at: null, last_heartbeat_at: null, created_at: at(),
    });
    await repos.workers.register(workerId, 's', { cpuMillicores: 1_000_000, memoryMb: 1_000_000, diskMb: 10_000_000, gpuCount: 0, gpuType: null, version: 't', accelerator: 'tcg', images: { minimal: 'ready' } }, at());
  });
  afterAll(async () => {
    await counters?.close();
    await handle?.close();
  });

  function bunker(owner: string): Omit<BunkerRow, 'worker_id'> {
    return {
      id: newId('bunker'), tenant_id: tenantId, owner_user_id: owner, name: null, image: 'minimal', lifecycle_mode: 'ephemeral',
      network_profile: 'isolated', cpu_millicores: 100, memory_mb: 128, disk_mb: 256, gpu_count: 0, gpu_type: null,
      max_lifetime_s: 900, idle_timeout_s: 300, session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}',
      status: 'pending', failure_reason: null, created_at: at(), updated_at: at(), started_at: null, last_activity_at: at(), ended_at: null,
    };
  }

  it('lets exactly 5 of 50 concurrent creates through a cap of 5, counts them in Redis, and gives them back once', async () => {
    const owner = newId('user');
    await repos.users.create({ id: owner, tenant_id: tenantId, email: `${owner}@example.test`, display_name: 'U', role: 'tenant_user', disabled: 0, created_at: at() });
    const profile = await repos.quotas.createProfile({
      id: newId('quotaProfile'), tenant_id: tenantId, name: 'five', description: null, max_concurrent_bunkers: 5, max_persistent_bunkers: null, max_cpu_millicores: null,
      max_memory_mb: null, max_disk_mb: null, max_gpu_count: null, per_bunker_max_cpu: null, per_bunker_max_memory: null, per_bunker_max_disk: null, per_bunker_max_gpu: null,
      created_at: at(), updated_at: at(),
    });
    await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: profile.id, tenant_id: tenantId, target_kind: 'user', target_id: owner, mode: 'individual', created_at: at() });
    const applicable = await repos.quotas.applicableFor(owner, tenantId);
    const rows = Array.from({ length: 50 }, () => bunker(owner));
    const results = await Promise.all(rows.map((row) => repos.bunkers.place(row, request, { applicable, usage, ceilings: {} })));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    const bucket = `user:${owner}`;
    expect((await counters.read([bucket])).get(bucket)).toMatchObject({ bunkers: 5, memoryMb: 640 });
    expect((await repos.quotas.usage([bucket], undefined, { fromLedger: true })).get(bucket)).toMatchObject({ bunkers: 5, memoryMb: 640 });

    const placed = rows.filter((_, i) => results[i]!.ok);
    for (const row of placed) await repos.bunkers.transition(row.id, ['provisioning'], 'terminated', at());
    for (const row of placed) await repos.bunkers.transition(row.id, ['provisioning', 'terminated'], 'failed', at());
    expect((await counters.read([bucket])).get(bucket)).toEqual({ bunkers: 0, persistentBunkers: 0, cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0 });
  });

  it('rebuilds the counters from the ledger (a counter left wrong by a crash, a stray key)', async () => {
    const owner = newId('user');
    await repos.users.create({ id: owner, tenant_id: tenantId, email: `${owner}@example.test`, display_name: 'V', role: 'tenant_user', disabled: 0, created_at: at() });
    const bucket = `user:${owner}`;
    const applicable = [{ profile: { id: 'p', name: 'p', tenantId, maxConcurrentBunkers: null, maxPersistentBunkers: null, maxCpuMillicores: null, maxMemoryMb: null, maxDiskMb: null, maxGpuCount: null, perBunkerMaxCpu: null, perBunkerMaxMemory: null, perBunkerMaxDisk: null, perBunkerMaxGpu: null }, bucket, assignment: null }];
    for (let i = 0; i < 2; i++) expect((await repos.bunkers.place(bunker(owner), request, { applicable, usage, ceilings: {} })).ok).toBe(true);
    await counters.add([bucket], usage, 1); // a release lost with a crash, say: 3 counted, 2 held
    await counters.add(['user:nobody'], usage, 1);
    expect((await counters.read([bucket])).get(bucket)!.bunkers).toBe(3);
    expect(await repos.quotas.reconcileCounters()).toBeGreaterThanOrEqual(1);
    expect((await counters.read([bucket])).get(bucket)).toMatchObject({ bunkers: 2, memoryMb: 256, diskMb: 512 });
    expect((await counters.read(['user:nobody'])).get('user:nobody')!.bunkers).toBe(0);
  });
});
