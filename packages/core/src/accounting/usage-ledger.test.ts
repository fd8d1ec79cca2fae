import { describe, expect, it } from 'vitest';
import { accountUsage, type UsageSegment } from './usage-ledger.js';

const seg = (over: Partial<UsageSegment>): UsageSegment => ({
  bunkerId: 'b1', tenantId: 't1', userId: 'u1', state: 'running', startedAtMs: 0, endedAtMs: 10_000, cpuMillicores: 1000, memoryMb: 512, diskMb: 1024, gpuCount: 0, ...over,
});

describe('usage ledger', () => {
  it('charges running time for everything held and paused time apart for memory and disk only', () => {
    const totals = accountUsage([seg({}), seg({ state: 'paused', startedAtMs: 10_000, endedAtMs: 15_000 })], 0, 60_000, 60_000, (s) => s.bunkerId).get('b1')!;
    expect(totals.running).toEqual({ seconds: 10, cpu_millicore_seconds: 10_000, memory_mb_seconds: 5120, disk_mb_seconds: 10_240, gpu_seconds: 0 });
    expect(totals.paused).toEqual({ seconds: 5, memory_mb_seconds: 2560, disk_mb_seconds: 5120 });
  });

  it('clips segments to the period and counts open ones up to now', () => {
    const totals = accountUsage([seg({ startedAtMs: 5_000, endedAtMs: null })], 0, 8_000, 20_000, (s) => s.bunkerId).get('b1')!;
    expect(totals.running.seconds).toBe(3);
    expect(accountUsage([seg({ startedAtMs: 5_000, endedAtMs: null })], 0, 60_000, 6_500, () => 'x').get('x')!.running.seconds).toBe(1.5);
    expect(accountUsage([seg({})], 20_000, 30_000, 60_000, () => 'x').size).toBe(0);
  });

  it('rolls up by any key', () => {
    const totals = accountUsage([seg({ bunkerId: 'a', userId: 'u1' }), seg({ bunkerId: 'b', userId: 'u1' }), seg({ bunkerId: 'c', userId: 'u2', gpuCount: 2 })], 0, 60_000, 60_000, (s) => s.userId);
    expect(totals.get('u1')!.running.seconds).toBe(20);
    expect(totals.get('u2')!.running.gpu_seconds).toBe(20);
  });
});
