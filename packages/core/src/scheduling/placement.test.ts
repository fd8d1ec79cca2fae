import { describe, expect, it } from 'vitest';
import { choosePlacement, type PlacementRequest, type WorkerCandidate } from './placement.js';

const none = { cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0 };
function worker(id: string, overrides: Partial<WorkerCandidate> = {}): WorkerCandidate {
  return {
    id, online: true, draining: false, gpuType: null, readyImages: new Set(['minimal']),
    capacity: { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000, gpuCount: 0 }, used: none, ...overrides,
  };
}
const request: PlacementRequest = { image: 'minimal', cpuMillicores: 1000, memoryMb: 512, diskMb: 1024, gpuCount: 0, gpuType: null, lazyPull: false };

describe('choosePlacement', () => {
  it('answers WORKER_UNAVAILABLE when no worker is online and accepting', () => {
    expect(choosePlacement(request, [])).toMatchObject({ ok: false, code: 'WORKER_UNAVAILABLE' });
    expect(choosePlacement(request, [worker('a', { online: false }), worker('b', { draining: true })])).toMatchObject({ ok: false, code: 'WORKER_UNAVAILABLE' });
  });

  it('answers NO_SUITABLE_WORKER when no live worker has the image ready, unless it can be pulled lazily', () => {
    const workers = [worker('a', { readyImages: new Set(['other']) })];
    expect(choosePlacement(request, workers)).toMatchObject({ ok: false, code: 'NO_SUITABLE_WORKER', reason: expect.stringContaining('minimal') });
    expect(choosePlacement({ ...request, lazyPull: true }, workers)).toEqual({ ok: true, workerId: 'a' });
  });

  it('sends a networked bunker only to a worker that builds networks, and a transit one only to its bridges’ worker', () => {
    const workers = [worker('plain'), worker('net', { networkReady: true, used: { ...none, memoryMb: 4000 } })];
    expect(choosePlacement(request, workers)).toEqual({ ok: true, workerId: 'plain' });
    expect(choosePlacement({ ...request, network: true }, workers)).toEqual({ ok: true, workerId: 'net' });
    expect(choosePlacement({ ...request, network: true }, [worker('plain')])).toMatchObject({ ok: false, code: 'NO_SUITABLE_WORKER', reason: expect.stringContaining('networking') });
    expect(choosePlacement({ ...request, onlyWorker: 'net' }, workers)).toEqual({ ok: true, workerId: 'net' });
    expect(choosePlacement({ ...request, onlyWorker: 'gone' }, workers)).toMatchObject({ ok: false, code: 'WORKER_UNAVAILABLE', reason: expect.stringContaining('gone') });
  });

  it('answers WORKER_UNAVAILABLE naming the short resource when none has room', () => {
    const full = worker('a', { used: { cpuMillicores: 0, memoryMb: 8000, diskMb: 0, gpuCount: 0 } });
    expect(choosePlacement(request, [full])).toMatchObject({ ok: false, code: 'WORKER_UNAVAILABLE', reason: expect.stringContaining('memoryMb') });
  });

  it('fits exactly: a request equal to the free capacity is placed, one unit more is not', () => {
    const w = worker('a', { capacity: { cpuMillicores: 1000, memoryMb: 512, diskMb: 1024, gpuCount: 0 } });
    expect(choosePlacement(request, [w])).toEqual({ ok: true, workerId: 'a' });
    expect(choosePlacement({ ...request, memoryMb: 513 }, [w])).toMatchObject({ ok: false });
  });

  it('spreads: the worker left with the most free memory wins; draining and offline ones never do', () => {
    const busy = worker('busy', { used: { cpuMillicores: 1000, memoryMb: 4096, diskMb: 0, gpuCount: 0 } });
    const idle = worker('idle');
    const idleDraining = worker('drain', { draining: true, capacity: { cpuMillicores: 64_000, memoryMb: 1 << 20, diskMb: 1 << 20, gpuCount: 0 } });
    expect(choosePlacement(request, [busy, idleDraining, idle])).toEqual({ ok: true, workerId: 'idle' });
  });

  it('places GPU bunkers only on workers with free GPUs of the asked type', () => {
    const gpuRequest = { ...request, gpuCount: 1, gpuType: 'a100' };
    const t4 = worker('t4', { gpuType: 't4', capacity: { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000, gpuCount: 2 } });
    const a100 = worker('a100', { gpuType: 'a100', capacity: { cpuMillicores: 4000, memoryMb: 8192, diskMb: 100_000, gpuCount: 1 } });
    expect(choosePlacement(gpuRequest, [t4, worker('cpu')])).toMatchObject({ ok: false, code: 'WORKER_UNAVAILABLE' });
    expect(choosePlacement(gpuRequest, [t4, a100])).toEqual({ ok: true, workerId: 'a100' });
  });
});
