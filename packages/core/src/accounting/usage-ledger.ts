/**
 * Accounting as pure arithmetic over usage segments: a bunker's life is a run of segments,
 * each one state (running or paused) with the resources held, and usage over a period is
 * each segment's overlap with it. Running time is charged for everything the bunker holds;
 * paused time apart, for what a paused VM still holds: its memory (the state is kept) and disk.
 */

export interface UsageSegment {
  bunkerId: string;
  tenantId: string;
  userId: string;
  state: 'running' | 'paused';
  startedAtMs: number;
  /** null while the segment is open (the bunker is in that state now). */
  endedAtMs: number | null;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  gpuCount: number;
}

export interface RunningUsage {
  seconds: number;
  cpu_millicore_seconds: number;
  memory_mb_seconds: number;
  disk_mb_seconds: number;
  gpu_seconds: number;
}

export interface PausedUsage {
  seconds: number;
  memory_mb_seconds: number;
  disk_mb_seconds: number;
}

export interface UsageTotals {
  running: RunningUsage;
  paused: PausedUsage;
}

export function emptyTotals(): UsageTotals {
  return {
    running: { seconds: 0, cpu_millicore_seconds: 0, memory_mb_seconds: 0, disk_mb_seconds: 0, gpu_seconds: 0 },
    paused: { seconds: 0, memory_mb_seconds: 0, disk_mb_seconds: 0 },
  };
}

/**
 * Totals per key (`keyOf` a segment: its tenant, user or bunker) over [fromMs, toMs), open
 * segments counted up to `nowMs`. Seconds are kept to the millisecond.
 */
export function accountUsage(segments: readonly UsageSegment[], fromMs: number, toMs: number, nowMs: number, keyOf: (s: UsageSegment) => string): Map<string, UsageTotals> {
  const totals = new Map<string, UsageTotals>();
  for (const s of segments) {
    const start = Math.max(s.startedAtMs, fromMs);
    const end = Math.min(s.endedAtMs ?? nowMs, toMs);
    if (end <= start) continue;
    const seconds = (end - start) / 1000;
    const key = keyOf(s);
    const t = totals.get(key) ?? emptyTotals();
    totals.set(key, t);
    if (s.state === 'running') {
      t.running.seconds += seconds;
      t.running.cpu_millicore_seconds += seconds * s.cpuMillicores;
      t.running.memory_mb_seconds += seconds * s.memoryMb;
      t.running.disk_mb_seconds += seconds * s.diskMb;
      t.running.gpu_seconds += seconds * s.gpuCount;
    } else {
      t.paused.seconds += seconds;
      t.paused.memory_mb_seconds += seconds * s.memoryMb;
      t.paused.disk_mb_seconds += seconds * s.diskMb;
    }
  }
  for (const t of totals.values()) roundAll(t);
  return totals;
}

/** Millisecond precision, without float dust in the answer. */
function roundAll(t: UsageTotals): void {
  for (const block of [t.running, t.paused] as unknown as Record<string, number>[]) {
    for (const k of Object.keys(block)) block[k] = Math.round(block[k]! * 1000) / 1000;
  }
}
