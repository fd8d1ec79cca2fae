import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from './in-process-platform.js';

/** Quotas through the API with real microVMs: exact under a burst of creates, released when bunkers end. */
describe('quota enforcement on bunker creates', () => {
  let platform: Platform;
  let adminKey: string;
  const call = (method: string, path: string, body: unknown, key: string) => platform.call(method, path, body, key);
  const B = '/v1/modules/scaibunker';

  beforeAll(async () => {
    // With the Redis quota counters when the suite has a Redis (npm test starts one), under a
    // prefix of this run's own; the ledger-only mode is covered by the database tests.
    const redis: Record<string, string> = process.env.SCAIBUNKER_TEST_REDIS_URL ? { SCAIBUNKER_REDIS_URL: process.env.SCAIBUNKER_TEST_REDIS_URL, SCAIBUNKER_REDIS_PREFIX: `e2e-${Date.now()}-${process.pid}:` } : {};
    platform = await startPlatform({ SCAIBUNKER_MAX_BUNKER_MEMORY_MB: '2048', ...redis });
    adminKey = platform.adminKey;
    // Capacity for the whole burst: what is measured is the quota, not placement.
    await platform.startWorker('worker', { cpuMillicores: 1_000_000, memoryMb: 1_000_000, diskMb: 1_000_000 });
  }, 180_000);
  afterAll(async () => { await platform?.close(); });

  it('lets exactly 5 of 50 concurrent creates run under max_concurrent_bunkers 5, names the cap it hit, and reads 0 once they end', async () => {
    const user = (await call('POST', '/v1/users', { email: 'burst@example.test', display_name: 'Burst', role: 'tenant_user' }, adminKey)).body.data;
    const key = (await call('POST', '/v1/api-keys', { name: 'burst', user_id: user.id }, adminKey)).body.data.secret as string;
    const profile = (await call('POST', `${B}/quota-profiles`, { name: 'five', max_concurrent_bunkers: 5, per_bunker_max_memory: 256 }, adminKey)).body.data;
    expect((await call('POST', `${B}/quota-profiles/${profile.id}/assignments`, { target_kind: 'user', target_id: user.id }, adminKey)).status).toBe(201);

    const tooLarge = await call('POST', `${B}/bunkers`, { image: 'minimal', memory_mb: 512 }, key);
    expect(tooLarge.status).toBe(429);
    expect(tooLarge.body.error).toMatchObject({ code: 'BUNKER_QUOTA_EXCEEDED', details: [{ field: 'memory_mb' }] });
    expect(tooLarge.body.error!.message).toContain('"five"');
    const overCeiling = await call('POST', `${B}/bunkers`, { image: 'minimal', memory_mb: 4096 }, key);
    expect(overCeiling.body.error!.message).toContain('platform');

    const results = await Promise.all(Array.from({ length: 50 }, () => call('POST', `${B}/bunkers`, { image: 'minimal', memory_mb: 128, disk_mb: 256 }, key)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(5);
    expect(created.every((r) => r.body.data.status === 'running')).toBe(true);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.status === 429 && r.body.error?.code === 'BUNKER_QUOTA_EXCEEDED')).toBe(true);
    expect(refused[0]!.body.error!.message).toMatch(new RegExp(`"five" \\(${profile.id}\\), bucket user:${user.id} caps bunkers at 5`));

    const [during] = (await call('GET', `${B}/quota-profiles/usage`, undefined, key)).body.data;
    expect(during).toMatchObject({ profile_name: 'five', bucket: `user:${user.id}`, usage: { bunkers: 5, memory_mb: 640, disk_mb: 1280 }, cap: { bunkers: 5 }, headroom: { bunkers: 0 } });

    // Paused bunkers keep their quota; ended ones give it back.
    const first = created[0]!.body.data.id as string;
    expect((await call('POST', `${B}/bunkers/${first}/pause`, undefined, key)).body.data.status).toBe('paused');
    expect((await call('GET', `${B}/quota-profiles/usage`, undefined, key)).body.data[0].usage.bunkers).toBe(5);
    await Promise.all(created.map((r) => call('DELETE', `${B}/bunkers/${r.body.data.id}`, undefined, key)));
    const [after] = (await call('GET', `${B}/quota-profiles/usage`, undefined, key)).body.data;
    expect(after.usage).toEqual({ bunkers: 0, persistent_bunkers: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0, gpu_count: 0 });
  }, 180_000);

  it('accounts a bunker that ran a known time: running time with its resources, paused time apart, rolled up per user and tenant', async () => {
    const created = await call('POST', `${B}/bunkers`, { image: 'minimal', memory_mb: 256, cpu_millicores: 500, disk_mb: 512 }, adminKey);
    const runningFrom = Date.now();
    const id = created.body.data.id as string;
    await new Promise((r) => setTimeout(r, 1500));
    await call('POST', `${B}/bunkers/${id}/pause`, undefined, adminKey);
    const pausedFrom = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await call('POST', `${B}/bunkers/${id}/resume`, undefined, adminKey);
    const resumedAt = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    await call('DELETE', `${B}/bunkers/${id}`, undefined, adminKey);
    const endedAt = Date.now();

    const report = (await call('GET', `${B}/usage?bunker_id=${id}`, undefined, adminKey)).body.data;
    expect(report.rows).toHaveLength(1);
    const [row] = report.rows;
    const ranS = (pausedFrom - runningFrom + endedAt - resumedAt) / 1000;
    // The segments are cut by the transitions themselves: the client's clock brackets them to
    // within its own request latencies.
    expect(Math.abs(row.running.seconds - ranS)).toBeLessThan(0.4);
    expect(Math.abs(row.paused.seconds - (resumedAt - pausedFrom) / 1000)).toBeLessThan(0.4);
    expect(row.running.cpu_millicore_seconds).toBeCloseTo(row.running.seconds * 500, 0);
    expect(row.running.memory_mb_seconds).toBeCloseTo(row.running.seconds * 256, 0);
    expect(row.paused.memory_mb_seconds).toBeCloseTo(row.paused.seconds * 256, 0);

    // Once ended it no longer grows; a period before it shows nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect((await call('GET', `${B}/usage?bunker_id=${id}`, undefined, adminKey)).body.data.rows[0].running.seconds).toBe(row.running.seconds);
    expect((await call('GET', `${B}/usage?bunker_id=${id}&to=${new Date(runningFrom - 60_000).toISOString()}&from=${new Date(runningFrom - 120_000).toISOString()}`, undefined, adminKey)).body.data.rows).toEqual([]);
    const byTenant = (await call('GET', `${B}/usage?group_by=tenant`, undefined, adminKey)).body.data.rows;
    expect(byTenant.every((r: { bunker_id?: string; user_id?: string }) => r.bunker_id === undefined && r.user_id === undefined)).toBe(true);
    expect(byTenant.reduce((sum: number, r: { running: { seconds: number } }) => sum + r.running.seconds, 0)).toBeGreaterThanOrEqual(row.running.seconds);
  }, 120_000);
});
