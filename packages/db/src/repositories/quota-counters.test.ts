import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { RedisQuotaCounters } from '../quota-counters.js';
import { addQuotaProfile, addTenantUser, openSeededDatabase, SMALL_BUNKER, smallBunkerRow } from '../testing/index.js';
import type { Repositories } from './index.js';

const REDIS_URL = process.env.SCAIBUNKER_TEST_REDIS_URL;

/**
 * Quota charging with Redis counters (SCAIBUNKER_REDIS_URL), against a real Redis that
 * `npm test` starts (scripts/ensure-redis.sh) and the real database: as exact as the ledger,
 * rebuilt from it at start.
 */
describe.skipIf(!REDIS_URL)('quota charges with Redis counters', () => {
  let handle: Awaited<ReturnType<typeof openSeededDatabase>>['handle'];
  let counters: RedisQuotaCounters;
  let repos: Repositories;
  let tenantId: string;
  const at = () => new Date().toISOString();
  const { request, usage } = SMALL_BUNKER;

  beforeAll(async () => {
    // A prefix of its own: the two database passes and other runs never share counters.
    counters = await RedisQuotaCounters.connect(REDIS_URL!, `scaibunker-test-${randomBytes(6).toString('hex')}:`);
    ({ handle, repos, tenantId } = await openSeededDatabase('rt', counters));
  });
  afterAll(async () => {
    await counters?.close();
    await handle?.close();
  });

  const bunker = (owner: string) => smallBunkerRow(tenantId, owner);

  it('lets exactly 5 of 50 concurrent creates through a cap of 5, counts them in Redis, and gives them back once', async () => {
    const owner = await addTenantUser(repos, tenantId);
    const profile = await addQuotaProfile(repos, tenantId, 'five', { max_concurrent_bunkers: 5 });
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
    const owner = await addTenantUser(repos, tenantId);
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
