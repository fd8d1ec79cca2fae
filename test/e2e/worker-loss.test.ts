import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerDaemon } from '@scaibunker/worker';
import { startPlatform, type Platform } from './in-process-platform.js';

/**
 * A worker that goes away for good: its heartbeats stop, and within the stale window its
 * bunkers fail (with the reason) and its resources are freed. A short window keeps this quick.
 */
describe('losing a worker', () => {
  let platform: Platform;
  let daemon: WorkerDaemon;
  const leftovers: number[] = [];
  const call = async (method: string, path: string, body?: unknown) => (await platform.call(method, path, body)).body;

  beforeAll(async () => {
    platform = await startPlatform({ SCAIBUNKER_WORKER_HEARTBEAT_MS: '500', SCAIBUNKER_WORKER_STALE_MS: '3000' });
    daemon = await platform.startWorker('worker');
  }, 180_000);
  afterAll(async () => {
    for (const pid of leftovers) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await platform?.close();
  });

  it('fails the bunkers of a worker that stopped heartbeating, and frees their resources and quota', async () => {
    // The platform default profile: 1 bunker at a time for anyone without an assignment.
    expect((await call('POST', '/quota-profiles', { name: 'default', tenant_id: null, max_concurrent_bunkers: 1 })).status).toBe('ok');
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).data;
    expect(bunker.status).toBe('running');
    const refused = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 });
    expect(refused.error?.code).toBe('BUNKER_QUOTA_EXCEEDED');
    const [held] = (await call('GET', '/quota-profiles/usage')).data;
    expect(held).toMatchObject({ profile_name: 'default', usage: { bunkers: 1, memory_mb: 128 }, headroom: { bunkers: 0 } });
    leftovers.push(daemon.bunkers.locate(bunker.id).pid);
    // The worker's process goes away and never comes back (its VMs are left running).
    await daemon.stop({ keepBunkers: true });
    const lostAt = Date.now();
    let seen = bunker;
    while (seen.status === 'running' && Date.now() - lostAt < 30_000) {
      await new Promise((r) => setTimeout(r, 200));
      seen = (await call('GET', `/bunkers/${bunker.id}`)).data;
    }
    expect(seen).toMatchObject({ status: 'failed', failure_reason: 'its worker stopped sending heartbeats' });
    expect(Date.now() - lostAt).toBeLessThan(30_000);
    const worker = (await call('GET', `/workers/${bunker.worker_id}`)).data;
    expect(worker).toMatchObject({ status: 'offline', usage: { bunkers: 0 } });
    const [released] = (await call('GET', '/quota-profiles/usage')).data;
    expect(released).toMatchObject({ usage: { bunkers: 0, persistent_bunkers: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0, gpu_count: 0 }, headroom: { bunkers: 1 } });
    expect((await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).error?.code).toBe('WORKER_UNAVAILABLE');
  }, 60_000);
});
