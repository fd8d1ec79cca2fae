import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startServer, type RunningServer } from '@scaibunker/controller';
import { createTestDatabase } from '@scaibunker/db/testing';
import { DEFAULT_CACHE_DIR, VmRuntime, WorkerDaemon } from '@scaibunker/worker';

/**
 * A worker that goes away for good: its heartbeats stop, and within the stale window its
 * bunkers fail (with the reason) and its resources are freed. A short window keeps this quick.
 */
describe('losing a worker', () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let adminKey: string;
  let daemon: WorkerDaemon;
  const leftovers: number[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/modules/scaibunker${path}`, {
      method, headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as { status: string; data?: any; error?: { code: string } };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-loss-'));
    server = await startServer({
      ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent', SCAIBUNKER_WORKER_HEARTBEAT_MS: '500', SCAIBUNKER_WORKER_STALE_MS: '3000' }),
      database: database.config,
    });
    adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const runtime = await VmRuntime.open({ dataDir: join(dataDir, 'worker'), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
    daemon = new WorkerDaemon({ controllerUrl: server.url, token: await server.localWorkerToken(), runtime, version: 'test', log: { info: () => undefined, warn: () => undefined } });
    await daemon.start();
  }, 180_000);
  afterAll(async () => {
    for (const pid of leftovers) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    await server?.close();
    await database?.close();
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
