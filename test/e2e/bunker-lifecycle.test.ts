import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startServer, type RunningServer } from '@scaibunker/controller';
import { createTestDatabase } from '@scaibunker/db/testing';
import { DEFAULT_CACHE_DIR, VmRuntime, WorkerDaemon } from '@scaibunker/worker';

/**
 * The product end to end, in one process: a real controller on a real database, a real
 * worker daemon dialing it over a real WebSocket, real microVMs. Everything through HTTP.
 */
describe('bunker lifecycle through the API', () => {
  let server: RunningServer;
  let daemon: WorkerDaemon;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let adminKey: string;
  const quiet = { info: () => undefined, warn: () => undefined };

  async function call(method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server.url}/v1/modules/scaibunker${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-e2e-'));
    server = await startServer({ ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent' }), database: database.config });
    adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const runtime = await VmRuntime.open({ dataDir: join(dataDir, 'worker'), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
    daemon = new WorkerDaemon({ controllerUrl: server.url, token: await server.localWorkerToken(), runtime, version: 'test', log: quiet });
    await daemon.start();
  }, 180_000);
  afterAll(async () => {
    await daemon?.stop();
    await server?.close();
    await database?.close();
  });

  it('lists the worker that dialed in, online, with capacity and its ready images', async () => {
    const { status, body } = await call('GET', '/workers');
    expect(status).toBe(200);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ name: 'local', status: 'online', images: { minimal: 'ready' } });
    expect(body.data[0].capacity.cpu_millicores).toBeGreaterThan(0);
    expect(Date.parse(body.data[0].last_heartbeat)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('creates a running bunker, runs commands as the image’s user (root on request), honours env_vars, and ends it', async () => {
    const created = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, disk_mb: 256, env_vars: { GREETING: 'bonjour' }, label_set: { team: 'qa' } });
    expect(created.status).toBe(201);
    const bunker = created.body.data;
    expect(bunker).toMatchObject({ status: 'running', image: 'minimal', lifecycle_mode: 'ephemeral', max_lifetime_s: 900, idle_timeout_s: 300, label_set: { team: 'qa' }, env_var_names: ['GREETING'] });
    expect(bunker.worker_id).toMatch(/^wrk_/);

    const exec = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo hi; echo "$GREETING" >&2; id -u; exit 3' });
    expect(exec.status).toBe(200);
    expect(exec.body.data).toMatchObject({ exit_code: 3, signal: null, stdout: 'hi\n1000\n', stderr: 'bonjour\n', timed_out: false, truncated: false });

    const asRoot = await call('POST', `/bunkers/${bunker.id}/exec`, { command: ['id', '-u'], user: 'root' });
    expect(asRoot.body.data).toMatchObject({ exit_code: 0, stdout: '0\n' });

    const withStdin = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'tr a-z A-Z', stdin: 'shout\n' });
    expect(withStdin.body.data.stdout).toBe('SHOUT\n');

    const timedOut = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'sleep 30', timeout_s: 1 });
    expect(timedOut.body.data).toMatchObject({ timed_out: true });

    expect((await call('POST', `/bunkers/${bunker.id}/pause`)).body.data.status).toBe('paused');
    const whilePaused = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'true' });
    expect(whilePaused.status).toBe(409);
    expect(whilePaused.body.error.code).toBe('BUNKER_NOT_RUNNING');
    expect((await call('POST', `/bunkers/${bunker.id}/resume`)).body.data.status).toBe('running');
    expect((await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo back' })).body.data.stdout).toBe('back\n');

    const worker = (await call('GET', `/workers/${bunker.worker_id}`)).body.data;
    expect(worker.usage).toMatchObject({ bunkers: 1, memory_mb: 128 });

    const deleted = await call('DELETE', `/bunkers/${bunker.id}`);
    expect(deleted.body.data).toMatchObject({ status: 'terminated' });
    expect(daemon.bunkers.ids()).not.toContain(bunker.id);
    expect((await call('GET', `/workers/${bunker.worker_id}`)).body.data.usage.bunkers).toBe(0);
    const afterEnd = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'true' });
    expect(afterEnd.body.error.code).toBe('BUNKER_NOT_RUNNING');
    // Deleting again changes nothing.
    expect((await call('DELETE', `/bunkers/${bunker.id}`)).body.data.status).toBe('terminated');
  }, 180_000);

  it('answers the spec’s errors for what this step cannot honour or the caller may not ask', async () => {
    const unknownImage = await call('POST', '/bunkers', { image: 'no-such-image' });
    expect(unknownImage.body.error.code).toBe('NO_SUITABLE_WORKER');
    const tooBig = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 262_144 });
    expect(tooBig.body.error.code).toBe('WORKER_UNAVAILABLE');
    const network = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'registry' });
    expect(network.body.error.code).toBe('NOT_SUPPORTED');
    const interfaces = await call('POST', '/bunkers', { image: 'minimal', interfaces: [{ if_name: 'eth1', bridge_name: 'b' }] });
    expect(interfaces.body.error.code).toBe('INTERFACES_NOT_ALLOWED');
    const transit = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'transit' });
    expect(transit.body.error.code).toBe('TRANSIT_MISSING_INTERFACES');
    const bad = await call('POST', '/bunkers', { image: 'minimal', cpu_millicores: '1000', surprise: true });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['cpu_millicores', 'surprise']);
    // Nothing was left behind by the refusals.
    expect((await call('GET', '/bunkers?status=pending')).body.data).toEqual([]);
  });
});
