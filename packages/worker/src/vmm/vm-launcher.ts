import { ScaiError } from '@scaibunker/contracts';
import { AgentClient, type AgentHello } from '../agent/agent-client.js';
import type { PreparedRestore, VmHandle, VmmDriver, VmSpec } from './vmm-driver.js';

/** Boot watchdog settings. */
export interface LaunchOptions {
  /** How long a VM may take from spawn to the agent's HELLO before it is killed. */
  readyTimeoutMs: number;
  /** Boots tried before giving up (a hung boot is killed and retried). */
  attempts: number;
  signal?: AbortSignal;
}

/** A microVM whose agent answered. */
export interface RunningVm {
  vm: VmHandle;
  agent: AgentClient;
  hello: AgentHello;
  /** Spawn → agent ready, of the attempt that succeeded. */
  readyMs: number;
  /** Attempts the watchdog killed before this one. */
  failedAttempts: number;
  /** Shuts the guest down cleanly (falls back to killing the VMM), and waits for the process to end. */
  stop(): Promise<void>;
}

/**
 * Boots (or restores) a VM and waits for its agent, with a watchdog: a VM that is not ready
 * in time is killed and tried again, and every failed attempt is counted, never hidden.
 */
export class VmLauncher {
  constructor(
    private readonly driver: VmmDriver,
    private readonly options: LaunchOptions,
  ) {}

  /** Which VMM the VMs run under. */
  get vmm(): VmmDriver['name'] {
    return this.driver.name;
  }

  /** `freshDisk` runs before every attempt, so a retry never boots a disk a killed attempt wrote to. */
  boot(spec: VmSpec, freshDisk: () => Promise<void>): Promise<RunningVm> {
    return this.launch(spec, freshDisk, () => this.driver.boot(spec));
  }

  restore(spec: VmSpec, statePath: string, freshDisk: () => Promise<void>): Promise<RunningVm> {
    return this.launch(spec, freshDisk, () => this.driver.restore(spec, statePath));
  }

  /** Whether the VMM can start a restore ahead of need (see VmmDriver.prepareRestore). */
  get canPrepare(): boolean {
    return this.driver.prepareRestore !== undefined;
  }

  /** Starts a VMM for a later restore: its disk made fresh first, its state loaded by `restorePrepared`. */
  async prepare(spec: VmSpec, statePath: string, freshDisk: () => Promise<void>): Promise<PreparedRestore> {
    if (!this.driver.prepareRestore) throw new ScaiError('NOT_SUPPORTED', `${this.driver.name} cannot start a restore ahead of need.`);
    await freshDisk();
    return this.driver.prepareRestore(spec, statePath);
  }

  /**
   * Restores into a prepared VMM (its disk is fresh already); should that attempt fail, the
   * watchdog's further attempts restore the usual way.
   */
  restorePrepared(spec: VmSpec, prepared: PreparedRestore, statePath: string, freshDisk: () => Promise<void>): Promise<RunningVm> {
    const loadPrepared = () => prepared.load().catch(async (error: unknown) => {
      await prepared.vm.kill();
      throw error;
    });
    return this.launch(spec, freshDisk, () => this.driver.restore(spec, statePath), loadPrepared);
  }

  /** Takes over a running VM a previous worker process left (see VmmDriver.adopt), agent link included. */
  async adopt(spec: VmSpec, pid: number): Promise<RunningVm | undefined> {
    const vm = await this.driver.adopt?.(spec, pid);
    if (!vm) return undefined;
    try {
      const { client, hello } = await AgentClient.attach(await vm.connectAgent(), { timeoutMs: this.options.readyTimeoutMs });
      return { vm, agent: client, hello, readyMs: 0, failedAttempts: 0, stop: () => stopVm(vm, client) };
    } catch (error) {
      await vm.kill();
      throw error;
    }
  }

  private async launch(spec: VmSpec, freshDisk: () => Promise<void>, start: () => Promise<VmHandle>, firstAttempt?: () => Promise<VmHandle>): Promise<RunningVm> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      this.options.signal?.throwIfAborted();
      const startedAt = performance.now();
      let vm: VmHandle | undefined;
      try {
        if (attempt === 0 && firstAttempt) {
          vm = await firstAttempt();
        } else {
          await freshDisk();
          vm = await start();
        }
        const { client, hello } = await Promise.race([
          vm.connectAgent().then((link) => AgentClient.attach(link, { timeoutMs: this.options.readyTimeoutMs, ...(this.options.signal ? { signal: this.options.signal } : {}) })),
          vm.exited.then((code) => { throw new Error(`the VMM exited with ${code} before the agent was ready`); }),
        ]);
        const running = vm;
        return {
          vm: running, agent: client, hello, readyMs: performance.now() - startedAt, failedAttempts: attempt,
          stop: () => stopVm(running, client),
        };
      } catch (error) {
        failures.push((error as Error).message);
        await vm?.kill();
        if (error instanceof ScaiError && error.code === 'VM_BOOT_FAILED' && /QEMU exited/.test(error.message)) break;
      }
    }
    throw new ScaiError('VM_BOOT_FAILED', `VM ${spec.id} was not ready after ${failures.length} attempt(s): ${failures.join('; ')}`);
  }
}

async function stopVm(vm: VmHandle, agent: AgentClient): Promise<void> {
  const exited = vm.exited.then(() => true);
  try {
    await Promise.race([agent.shutdown(), sleep(2000)]);
  } catch {
    // The link may drop as the guest goes down; the exit below is what counts.
  }
  if (!(await Promise.race([exited, sleep(3000).then(() => false)]))) await vm.kill();
  agent.close();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
