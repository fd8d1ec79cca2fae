import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testDatabaseKind } from '@scaibunker/db/testing';
import { runCli as cli } from './cli-process.js';
import { endLeftoverVms, startServer as serve, stopServer as stop } from './server-process.js';


describe('scaibunker serve, as a new user runs it', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-e2e-'));
    env = { SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIGRID_HOST: '', SCAIGRID_API_KEY: '' };
    if (testDatabaseKind() === 'postgres') {
      database = await createTestDatabase();
      if (database.config.kind === 'postgres') env.SCAIBUNKER_DATABASE_URL = database.config.url;
    }
  });
  afterAll(async () => {
    await database?.close();
    endLeftoverVms(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('bootstraps a super admin on first start, writes its key 0600 and prints the path, never the key', async () => {
    const served = await serve(env);
    try {
      const keyPath = join(dataDir, 'admin.key');
      const key = readFileSync(keyPath, 'utf8').trim();
      expect(statSync(keyPath).mode & 0o777).toBe(0o600);
      expect(served.output()).toContain(keyPath);
      expect(served.output()).not.toContain(key.split('.')[1]);

      const health = (await (await fetch(`${served.url}/v1/health`)).json()) as { data: unknown };
      expect(health.data).toMatchObject({ status: 'ok', mode: 'all', database: testDatabaseKind() });

      const me = await fetch(`${served.url}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      expect(((await me.json()) as { data: { role: string } }).data.role).toBe('super_admin');

      // The CLI finds the local server's key in the data dir by itself.
      const cliMe = await cli(['me', '--json'], { ...env, SCAIGRID_HOST: served.url });
      expect(cliMe.code).toBe(0);
      expect(JSON.parse(cliMe.stdout).role).toBe('super_admin');

      const tenant = await cli(['tenant', 'create', 'e2e-team'], { ...env, SCAIGRID_HOST: served.url });
      expect(tenant.stdout).toMatch(/slug\s+e2e-team/);
      const refused = await cli(['tenant', 'create', 'e2e-team'], { ...env, SCAIGRID_HOST: served.url });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('SLUG_CONFLICT');

      // Mode `all` brings this host's own worker: it dials in, and a bunker runs code at once.
      const api = (path: string, init: RequestInit = {}) => fetch(`${served.url}/v1/modules/scaibunker${path}`, {
        ...init, headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      }).then((r) => r.json() as Promise<any>);
      const deadline = Date.now() + 30_000;
      let workers = await api('/workers');
      while (workers.data[0]?.status !== 'online' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        workers = await api('/workers');
      }
      expect(workers.data).toMatchObject([{ name: 'local', status: 'online' }]);
      const bunker = await api('/bunkers', { method: 'POST', body: JSON.stringify({ image: 'minimal', memory_mb: 128 }) });
      expect(bunker).toMatchObject({ status: 'ok', data: { status: 'running' } });
      const exec = await api(`/bunkers/${bunker.data.id}/exec`, { method: 'POST', body: JSON.stringify({ command: 'echo hello from a bunker' }) });
      expect(exec.data).toMatchObject({ exit_code: 0, stdout: 'hello from a bunker\n' });
      expect((await api(`/bunkers/${bunker.data.id}`, { method: 'DELETE' })).data.status).toBe('terminated');
    } finally {
      expect(await stop(served)).toBe(0);
    }
  });

  it('keeps its data and the admin key across a restart', async () => {
    const keyBefore = readFileSync(join(dataDir, 'admin.key'), 'utf8');
    const served = await serve(env);
    try {
      expect(readFileSync(join(dataDir, 'admin.key'), 'utf8')).toBe(keyBefore);
      const tenants = await cli(['tenant', 'list', '--json'], { ...env, SCAIGRID_HOST: served.url });
      expect(JSON.parse(tenants.stdout).map((t: { slug: string }) => t.slug)).toContain('e2e-team');
    } finally {
      expect(await stop(served)).toBe(0);
    }
  });

  it('exits with a clear message for a mode that is not built yet, a worker without its controller, and a bad listen address', async () => {
    const proxy = await cli(['serve'], { ...env, SCAIGRID_MODE: 'bunker_proxy' });
    expect(proxy.code).not.toBe(0);
    expect(proxy.stderr).toContain('SCAIGRID_MODE=bunker_proxy is not built yet');
    const worker = await cli(['serve'], { ...env, SCAIGRID_MODE: 'worker' });
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toContain('SCAIGRID_MODE=worker needs SCAIBUNKER_CONTROLLER_URL and SCAIBUNKER_WORKER_TOKEN');
    const listen = await cli(['serve'], { ...env, SCAIBUNKER_LISTEN: 'nowhere' });
    expect(listen.code).not.toBe(0);
    expect(listen.stderr).toContain('SCAIBUNKER_LISTEN must be HOST:PORT');
    const redisUrl = await cli(['serve'], { ...env, SCAIGRID_MODE: 'controller', SCAIBUNKER_REDIS_URL: 'localhost:6379' });
    expect(redisUrl.code).not.toBe(0);
    expect(redisUrl.stderr).toContain('SCAIBUNKER_REDIS_URL must be a redis:// or rediss:// URL');
    // Nothing listens on port 1: a configured Redis that does not answer stops the start, saying so.
    const redisDown = await cli(['serve'], { ...env, SCAIGRID_MODE: 'controller', SCAIBUNKER_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(redisDown.code).not.toBe(0);
    expect(redisDown.stderr).toContain('SCAIBUNKER_REDIS_URL: Redis did not answer');
  });

  it('tells the user when the API cannot be reached', async () => {
    const result = await cli(['me'], { ...env, SCAIGRID_HOST: 'http://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the API');
  });
});
