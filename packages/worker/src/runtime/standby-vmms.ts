import { ScaiError } from '@scaibunker/contracts';
import type { PreparedRestore, VmSpec } from '../vmm/vmm-driver.js';

/** A VMM started for one template's restore, with the VM files it was given. */
export interface StandbyVmm {
  spec: VmSpec;
  prepared: PreparedRestore;
  freshDisk: () => Promise<void>;
  /** Removes the VM's files and frees its jail uid (after the VMM is gone). */
  cleanUp: () => Promise<void>;
}

/** How many standbys to keep, and for how long one may wait unused. */
export interface StandbyOptions {
  /** Per restore shape (template, CPU): 0 turns standbys off. */
  perShape: number;
  /** Shapes kept at most; the least recently used one's standbys go first. */
  maxShapes: number;
  /** A standby unused this long is ended: it holds a process, a jail uid and an overlay. */
  idleMs: number;
}

/**
 * VMM processes started ahead of need, per restore shape, so a start from a template pays
 * only the state load: QEMU's own start-up (exec, dynamic linking, device set-up: ~30 ms on
 * these machines) happens in the background, at idle CPU priority. Replenished after each
 * take, only for shapes that were asked for; they hold no guest memory until loaded.
 */
export class StandbyVmms {
  private readonly waiting = new Map<string, { standbys: StandbyVmm[]; lastUsed: number; timer?: NodeJS.Timeout }>();
  private readonly preparing = new Set<string>();
  private closed = false;

  constructor(
    private readonly options: StandbyOptions,
    private readonly log: (error: unknown) => void = () => undefined,
  ) {}

  /** A waiting standby of this shape (still alive), if any. */
  take(shape: string): StandbyVmm | undefined {
    const entry = this.waiting.get(shape);
    if (!entry) return undefined;
    entry.lastUsed = Date.now();
    return entry.standbys.shift();
  }

  /** Starts standbys of this shape in the background until `perShape` wait. */
  replenish(shape: string, prepare: () => Promise<StandbyVmm>): void {
    if (this.closed || this.options.perShape === 0 || this.preparing.has(shape)) return;
    const entry = this.waiting.get(shape) ?? { standbys: [], lastUsed: Date.now() };
    this.waiting.set(shape, entry);
    this.evictBeyond(this.options.maxShapes);
    this.preparing.add(shape);
    void (async () => {
      try {
        while (!this.closed && this.waiting.get(shape) === entry && entry.standbys.length < this.options.perShape) {
          const standby = await prepare();
          void standby.prepared.vm.exited.then(() => this.forget(entry, standby));
          if (this.closed || this.waiting.get(shape) !== entry) {
            await end(standby);
            break;
          }
          entry.standbys.push(standby);
          this.armIdleTimer(shape, entry);
        }
      } catch (error) {
        this.log(error);
      } finally {
        this.preparing.delete(shape);
      }
    })();
  }

  /** Ends every waiting standby. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.waiting.values()].flatMap((entry) => {
      clearTimeout(entry.timer);
      return entry.standbys.splice(0);
    });
    this.waiting.clear();
    await Promise.all(all.map(end));
  }

  /** Standbys waiting per shape, for reporting and tests. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.waiting].map(([shape, entry]) => [shape, entry.standbys.length]));
  }

  private forget(entry: { standbys: StandbyVmm[] }, standby: StandbyVmm): void {
    const index = entry.standbys.indexOf(standby);
    if (index >= 0) {
      entry.standbys.splice(index, 1);
      void standby.cleanUp().catch(this.log);
    }
  }

  private armIdleTimer(shape: string, entry: { standbys: StandbyVmm[]; lastUsed: number; timer?: NodeJS.Timeout }): void {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.waiting.get(shape) !== entry) return;
      if (Date.now() - entry.lastUsed < this.options.idleMs) return this.armIdleTimer(shape, entry);
      this.waiting.delete(shape);
      void Promise.all(entry.standbys.splice(0).map(end)).catch(this.log);
    }, this.options.idleMs);
    entry.timer.unref();
  }

  private evictBeyond(maxShapes: number): void {
    const byAge = [...this.waiting].sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [shape, entry] of byAge.slice(0, Math.max(0, byAge.length - maxShapes))) {
      this.waiting.delete(shape);
      clearTimeout(entry.timer);
      void Promise.all(entry.standbys.splice(0).map(end)).catch(this.log);
    }
  }
}

async function end(standby: StandbyVmm): Promise<void> {
  await standby.prepared.vm.kill();
  await standby.cleanUp();
}

/** Parses `SCAIBUNKER_STANDBY_VMMS`: standby VMMs per restore shape, 0–16 (default 1). */
export function standbyVmmsFromEnv(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  if (/^\d{1,2}$/.test(value.trim()) && Number(value) <= 16) return Number(value);
  throw new ScaiError('VALIDATION_ERROR', `SCAIBUNKER_STANDBY_VMMS must be a whole number from 0 to 16, got "${value}".`, {
    details: [{ field: 'SCAIBUNKER_STANDBY_VMMS', message: 'a whole number from 0 to 16' }],
  });
}
