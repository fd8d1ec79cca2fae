import { ScaiError } from '@scaibunker/contracts';
import type { RuntimeVm, VmRuntime } from '../runtime/vm-runtime.js';

/** One image's pool: how many VMs of which shape to keep restored and idle. */
export interface WarmPoolSpec {
  image: string;
  size: number;
  memoryMb: number;
  cpuMillicores: number;
  /** The disk the pool's VMs start with; a claim may ask for more (grown at claim), not less. */
  diskMb: number;
}

/** The shape a bunker gets when its create says nothing (the API's defaults). */
const DEFAULT_SHAPE = { memoryMb: 512, cpuMillicores: 1000, diskMb: 1024 };

/**
 * Parses `SCAIBUNKER_WARM_POOL`: `image=size[:memoryMb[:cpuMillicores[:diskMb]]]`, comma-separated,
 * e.g. `minimal=2,debian-python=1:1024`. The shape defaults to the API's bunker defaults, so
 * a create that leaves resources unset is the one a pool serves.
 */
export function parseWarmPool(value: string | undefined): WarmPoolSpec[] {
  if (!value?.trim()) return [];
  return value.split(',').map((entry) => {
    const match = /^\s*([a-z0-9][a-z0-9._-]{0,63})=(\d{1,3})(?::(\d{2,6}))?(?::(\d{3,6}))?(?::(\d{2,7}))?\s*$/.exec(entry);
    if (!match) {
      throw new ScaiError('VALIDATION_ERROR', `SCAIBUNKER_WARM_POOL entry "${entry}" is not image=size[:memoryMb[:cpuMillicores[:diskMb]]].`, {
        details: [{ field: 'SCAIBUNKER_WARM_POOL', message: 'e.g. minimal=2,debian-python=1:1024' }],
      });
    }
    return {
      image: match[1]!, size: Number(match[2]),
      memoryMb: match[3] ? Number(match[3]) : DEFAULT_SHAPE.memoryMb,
      cpuMillicores: match[4] ? Number(match[4]) : DEFAULT_SHAPE.cpuMillicores,
      diskMb: match[5] ? Number(match[5]) : DEFAULT_SHAPE.diskMb,
    };
  });
}

/**
 * Restored, idle microVMs per image, claimed by bunker starts of the same shape and refilled
 * in the background. A claimed VM gets the bunker's identity (hostname, machine id, fresh
 * entropy, clock) and disk size at claim time. The pool's VMs are the worker's own overhead:
 * the worker offers its capacity less what the pools hold, so claims and refills never
 * over-commit it, and no tenant's quota is charged until a bunker claims one.
 */
export class WarmPool {
  private readonly idle = new Map<string, RuntimeVm[]>();
  private readonly filling = new Set<string>();
  private stopped = false;
  /** Starts that found a VM waiting / that had to restore one. */
  readonly stats = { hits: 0, misses: 0, refillFailures: 0 };

  constructor(
    private readonly runtime: VmRuntime,
    readonly specs: readonly WarmPoolSpec[],
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  /** What the pools hold when full: subtracted from what the worker offers. */
  get reserved(): { cpuMillicores: number; memoryMb: number } {
    return this.specs.reduce((sum, s) => ({ cpuMillicores: sum.cpuMillicores + s.size * s.cpuMillicores, memoryMb: sum.memoryMb + s.size * s.memoryMb }), { cpuMillicores: 0, memoryMb: 0 });
  }

  /** Fills every pool (in the background); resolves when the first round is done. */
  fill(): Promise<void> {
    return Promise.all(this.specs.map((spec) => this.refill(spec))).then(() => undefined);
  }

  /**
   * Takes a waiting VM of this image, memory and CPU whose disk is no larger than asked, if one
   * is idle; the pool refills behind it. The caller grows the disk to what was asked.
   */
  claim(image: string, memoryMb: number, cpuMillicores: number, diskMb: number): { vm: RuntimeVm; diskMb: number } | undefined {
    const spec = this.specs.find((s) => s.image === image && s.memoryMb === memoryMb && s.cpuMillicores === cpuMillicores && s.diskMb <= diskMb);
    if (!spec) return undefined;
    const vm = this.idle.get(keyOf(spec))?.shift();
    if (vm) this.stats.hits++;
    else this.stats.misses++;
    void this.refill(spec);
    return vm ? { vm, diskMb: spec.diskMb } : undefined;
  }

  /** Idle VMs per pool, for reporting. */
  sizes(): Record<string, number> {
    return Object.fromEntries(this.specs.map((s) => [keyOf(s), this.idle.get(keyOf(s))?.length ?? 0]));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((vm) => vm.stop()));
  }

  private async refill(spec: WarmPoolSpec): Promise<void> {
    const key = keyOf(spec);
    if (this.filling.has(key)) return;
    this.filling.add(key);
    try {
      const pool = this.idle.get(key) ?? [];
      this.idle.set(key, pool);
      while (!this.stopped && pool.length < spec.size) {
        try {
          // At idle CPU priority until claimed: refilling behind a claim must not slow the bunker
          // that just took a VM (on 2 cores under TCG it doubled the claim's first exec).
          const vm = await this.runtime.start({
            image: spec.image, memoryMb: spec.memoryMb, cpuMillicores: spec.cpuMillicores, diskMb: spec.diskMb, vcpus: Math.max(1, Math.ceil(spec.cpuMillicores / 1000)), background: true,
          });
          if (this.stopped) {
            await vm.stop();
            break;
          }
          await vm.identified.catch(async (error: unknown) => {
            await vm.stop();
            throw error;
          });
          // A fresh VM's first command is slow under TCG: paid here, not by the claim.
          await this.runtime.warmUp(vm);
          pool.push(vm);
        } catch (error) {
          // A pool that cannot fill (a missing image, say) must not spin: try again on the next claim.
          this.stats.refillFailures++;
          this.log.warn({ err: error, image: spec.image }, 'warm pool could not start a VM');
          return;
        }
      }
    } finally {
      this.filling.delete(key);
    }
  }
}

function keyOf(spec: WarmPoolSpec): string {
  return `${spec.image}:${spec.memoryMb}m:${spec.cpuMillicores}mc:${spec.diskMb}d`;
}
