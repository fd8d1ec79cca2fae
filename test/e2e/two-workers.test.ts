import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerDaemon } from '@scaibunker/worker';
import { startPlatform, type Platform } from './in-process-platform.js';

/** Two workers on one host (separate data directories), both dialing one controller. */
describe('two workers', () => {
  let platform: Platform;
  const daemons: WorkerDaemon[] = [];
  const workerIds: string[] = [];
  const call = async (method: string, path: string, body?: unknown) => (await platform.call(method, path, body)).body;

  beforeAll(async () => {
    platform = await startPlatform();
    for (const name of ['left', 'right']) {
      const created = (await call('POST', '/workers', { name, labels: { side: name } })).data;
      workerIds.push(created.id);
      daemons.push(await platform.startWorker(name, { token: created.token, cpuMillicores: 8000, memoryMb: 4096, diskMb: 100_000 }));
    }
  }, 180_000);
  afterAll(async () => { await platform?.close(); });

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
