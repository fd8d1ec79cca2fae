import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, startServer, type RunningServer } from '@scaibunker/controller';
import { createTestDatabase } from '@scaibunker/db/testing';
import { DEFAULT_CACHE_DIR, VmRuntime, WorkerDaemon } from '@scaibunker/worker';

/** Two workers on one host (separate data directories), both dialing one controller. */
describe('two workers', () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let adminKey: string;
  const daemons: WorkerDaemon[] = [];
  const workerIds: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/v1/modules/scaibunker${path}`, {
      method, headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as { status: string; data?: any; error?: { code: string } };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-two-'));
    server = await startServer({ ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent' }), database: database.config });
    adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    for (const name of ['left', 'right']) {
      const created = (await call('POST', '/workers', { name, labels: { side: name } })).data;
      workerIds.push(created.id);
      const runtime = await VmRuntime.open({ dataDir: join(dataDir, name), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
      const daemon = new WorkerDaemon({
        controllerUrl: server.url, token: created.token, runtime, version: 'test', log: { info: () => undefined, warn: () => undefined },
        cpuMillicores: 8000, memoryMb: 4096, diskMb: 100_000,
      });
      await daemon.start();
      daemons.push(daemon);
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await server?.close();
    await database?.close();
  });

  const create = async () => (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, disk_mb: 64 })).data as { id: string; worker_id: string; status: string };

  it('spreads bunkers across both, sends new ones elsewhere while one drains, and never gives two VMs one uid', async () => {
    const first = [await create(), await create(), await create(), await create()];
    expect(first.every((b) => b.status === 'running')).toBe(true);
    const count = (bunkers: { worker_id: string }[], id: string) => bunkers.filter((b) => b.worker_id === id).length;
    expect([count(first, workerIds[0]!), count(first, workerIds[1]!)]).toEqual([2, 2]);

    // Their VMs run under distinct jail uids although the two workers allocate independently.
    const uids = first.map((b) => {
      const daemon = daemons[workerIds.indexOf(b.worker_id)]!;
      const { pid } = daemon.bunkers.locate(b.id);
      return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
    });
    expect(new Set(uids).size).toBe(4);

    expect((await call('POST', `/workers/${workerIds[0]}/drain`)).data.status).toBe('draining');
    const whileDraining = [await create(), await create()];
    expect(whileDraining.map((b) => b.worker_id)).toEqual([workerIds[1], workerIds[1]]);
    // Draining keeps what runs: the first worker's bunkers still answer.
    const onDrained = first.find((b) => b.worker_id === workerIds[0])!;
    expect((await call('POST', `/bunkers/${onDrained.id}/exec`, { command: ['echo', 'still here'] })).data.stdout).toBe('still here\n');

    await call('POST', `/workers/${workerIds[0]}/resume`);
    expect((await create()).worker_id).toBe(workerIds[0]); // the emptier one again
  }, 180_000);
});
