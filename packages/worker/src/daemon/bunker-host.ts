import { isId, ScaiError, type BunkerNetworkLaunch } from '@scaibunker/contracts';
import type { BunkerNetworks, NetworkStatus } from '../network/bunker-networks.js';
import type { Readable, Writable } from 'node:stream';
import type { AgentClient, ExecProcess, GuestDirEntry, GuestStat } from '../agent/agent-client.js';
import { runAs } from '../runtime/guest-account.js';
import { GuestProcess, signalName, type ProcessInfo } from './guest-process.js';
import { ShellSession } from './shell-session.js';
import type { WarmPool } from './warm-pool.js';
import type { RuntimeVm, VmRuntime } from '../runtime/vm-runtime.js';

/** What the controller asks a worker to start. */
export interface BunkerLaunch {
  bunkerId: string;
  image: string;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  envVars: Record<string, string>;
  /** Absent for isolated bunkers. */
  network?: BunkerNetworkLaunch | undefined;
}

/** A sync exec as the controller sends it (see the controller's worker-gateway.ts). */
export interface HostExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  user?: string | undefined;
  stdin?: string | undefined;
  /** Keep stdin open after `stdin` for later writes by pid. */
  stdinOpen?: boolean | undefined;
  timeoutS: number;
  outputCapBytes: number;
}

export interface HostExecResult {
  exit_code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  duration_ms: number;
  timed_out: boolean;
  truncated: boolean;
}


/** Finished processes a bunker remembers (for their output and exit) before forgetting the oldest. */
const FINISHED_KEPT = 64;

/**
 * The bunkers one worker runs: a microVM each, started from the image's template. Calls for
 * a bunker this host does not run answer NOT_FOUND, so the controller can tell a lost VM.
 */
export class BunkerHost {
  private readonly vms = new Map<string, RuntimeVm>();
  private readonly processes = new Map<string, Map<number, GuestProcess>>();
  private readonly shells = new Map<string, Map<string, ShellSession>>();
  private readonly starting = new Map<string, Promise<void>>();

  constructor(
    private readonly runtime: VmRuntime,
    private readonly pool?: WarmPool,
    /** Told when a bunker's VM ends without being asked to (a crash, a guest poweroff). */
    private readonly onExited?: (bunkerId: string, reason: string) => void,
    /** Networks of the networked bunkers; without it this worker runs isolated bunkers only. */
    private readonly networks?: BunkerNetworks,
  ) {}

  /** Keeps a VM as the bunker's, and reports it should it end unasked. */
  private keep(bunkerId: string, vm: RuntimeVm): void {
    this.vms.set(bunkerId, vm);
    // A VM that did not take its identity stays sealed and serves nothing: it ends, and says why.
    void vm.identified.catch(async (error: unknown) => {
      // A VMM that died takes the agent link with it: then its exit is the reason to report.
      const exited = await Promise.race([vm.vm.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref())]);
      if (exited || this.vms.get(bunkerId) !== vm) return;
      this.forget(bunkerId);
      await vm.stop().catch(() => undefined);
      this.onExited?.(bunkerId, `the VM did not take its identity: ${(error as Error).message}`);
    });
    void vm.vm.exited.then((code) => {
      if (this.vms.get(bunkerId) !== vm) return; // stopped on purpose
      this.forget(bunkerId);
      void vm.stop().catch(() => undefined); // removes its files
      this.onExited?.(bunkerId, `the VMM exited${code === null ? '' : ` with ${code}`}`);
    });
  }

  private forget(bunkerId: string): void {
    this.vms.delete(bunkerId);
    this.processes.delete(bunkerId);
    this.shells.delete(bunkerId);
    void this.networks?.detach(bunkerId).catch(() => undefined);
  }

  /** Makes a claimed warm VM the bunker's: its identity, and its disk grown to the asked size. */
  private async adopt(vm: RuntimeVm, currentDiskMb: number, hostname: string, launch: BunkerLaunch): Promise<RuntimeVm> {
    try {
      await this.runtime.foreground(vm);
      const grow = launch.diskMb > currentDiskMb;
      ({ identified: vm.identified } = await this.runtime.personalise(vm, hostname, { diskMb: grow ? launch.diskMb : undefined, growFs: grow }));
      await this.runtime.relabel(vm, launch.bunkerId);
      return vm;
    } catch (error) {
      await vm.stop();
      throw error;
    }
  }

  /**
   * Takes over the VMs a previous worker process left running: those labelled with a bunker id
   * are that bunker's again (the controller keeps them when the hello lists them); others (a
   * warm pool's) are stopped.
   */
  async adoptAll(vms: RuntimeVm[]): Promise<void> {
    for (const vm of vms) {
      if (isId('bunker', vm.label) && !this.vms.has(vm.label)) this.keep(vm.label, vm);
      else await vm.stop();
    }
    // Networks whose bunker did not survive (a crash, a kill) go: nothing stale is left.
    await this.networks?.reconcile(new Set(this.vms.keys()));
  }

  /** Where a bunker's VM runs on this host: its VMM's pid and work directory (for operators). */
  locate(bunkerId: string): { pid: number; workDir: string } {
    const vm = this.vm(bunkerId);
    return { pid: vm.vm.pid, workDir: vm.spec.workDir };
  }

  /** Ids of the bunkers running here (for the controller to reconcile after a reconnect). */
  ids(): string[] {
    return [...this.vms.keys()];
  }

  async start(launch: BunkerLaunch): Promise<void> {
    if (this.vms.has(launch.bunkerId)) return;
    const pending = this.starting.get(launch.bunkerId);
    if (pending) return pending;
    const started = (async () => {
      const hostname = launch.bunkerId.replace('_', '-');
      const network = launch.network && await this.attachNetwork(launch.bunkerId, launch.network);
      let vm: RuntimeVm;
      try {
        // Warm VMs have no NIC: only isolated bunkers take one.
        const warm = network ? undefined : this.pool?.claim(launch.image, launch.memoryMb, launch.cpuMillicores, launch.diskMb);
        vm = warm ? await this.adopt(warm.vm, warm.diskMb, hostname, launch) : await this.runtime.start({
          image: launch.image, memoryMb: launch.memoryMb, cpuMillicores: launch.cpuMillicores, diskMb: launch.diskMb,
          vcpus: Math.max(1, Math.ceil(launch.cpuMillicores / 1000)), hostname, label: launch.bunkerId,
          network,
        });
      } catch (error) {
        if (network) await this.networks?.detach(launch.bunkerId);
        throw error;
      }
      // A stop that came while it booted wins.
      if (!this.starting.has(launch.bunkerId)) {
        await vm.stop();
        if (network) await this.networks?.detach(launch.bunkerId);
        throw new ScaiError('CONFLICT', 'The bunker was stopped while it started.');
      }
      this.keep(launch.bunkerId, vm);
    })().finally(() => this.starting.delete(launch.bunkerId));
    this.starting.set(launch.bunkerId, started);
    return started;
  }

  private attachNetwork(bunkerId: string, network: BunkerNetworkLaunch) {
    if (!this.networks) throw new ScaiError('NOT_SUPPORTED', `This worker has no bunker networking set up; the ${network.profile} profile needs it.`);
    return this.networks.attach(bunkerId, network);
  }

  /** Stops a bunker's VM and removes its files; stopping an unknown bunker is a no-op. */
  async stop(bunkerId: string): Promise<void> {
    this.starting.delete(bunkerId);
    const vm = this.vms.get(bunkerId);
    if (!vm) return;
    this.vms.delete(bunkerId);
    this.processes.delete(bunkerId);
    this.shells.delete(bunkerId);
    try {
      await vm.stop();
    } finally {
      await this.networks?.detach(bunkerId);
    }
  }

  /** A running networked bunker's addresses and refusals. */
  networkStatus(bunkerId: string): NetworkStatus {
    this.vm(bunkerId);
    const status = this.networks?.status(bunkerId);
    if (!status) throw new ScaiError('NOT_FOUND', `Bunker ${bunkerId} has no network on this worker.`);
    return status;
  }

  async pause(bunkerId: string): Promise<void> {
    await this.vm(bunkerId).vm.pause();
  }

  async resume(bunkerId: string): Promise<void> {
    await this.vm(bunkerId).vm.resume();
  }

  /** Starts a guest process as the request's user, with its environment, cwd and timeout. */
  private async spawn(bunkerId: string, request: HostExecRequest, keepStdinOpen: boolean): Promise<{ proc: ExecProcess; pid: number }> {
    const { agent } = this.vm(bunkerId);
    const proc = agent.exec({
      argv: request.argv, env: request.env, ...(request.cwd === undefined ? {} : { cwd: request.cwd }), ...runAs(request.user),
      timeoutMs: request.timeoutS * 1000, stdin: request.stdin !== undefined || keepStdinOpen,
    });
    const pid = await proc.pid;
    if (request.stdin !== undefined) {
      await proc.write(request.stdin);
      if (!keepStdinOpen) proc.closeStdin();
    }
    return { proc, pid };
  }

  /** Runs a command to its end, keeping at most `outputCapBytes` of each stream. */
  async exec(bunkerId: string, request: HostExecRequest): Promise<HostExecResult> {
    const started = performance.now();
    const { proc } = await this.spawn(bunkerId, request, false);
    let truncated = false;
    const collect = (stream: NodeJS.ReadableStream) => new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      // Past the cap the output is still read (and dropped), so the process never stalls on a full pipe.
      stream.on('data', (chunk: Buffer) => {
        const room = request.outputCapBytes - kept;
        if (room <= 0) { truncated = true; return; }
        if (chunk.length > room) truncated = true;
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      });
      stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      stream.once('error', reject);
    });
    const [stdout, stderr, result] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return {
      exit_code: result.signal ? null : result.exitCode,
      signal: result.signal ? signalName(result.signal) : null,
      stdout, stderr, duration_ms: Math.round(performance.now() - started), timed_out: result.timedOut, truncated,
    };
  }

  /**
   * Starts a process whose output is events: attached to `out` (a streaming exec: the guest
   * waits for a slow reader; closing `out` early kills it), or in the background (drained
   * into a bounded buffer; read later by pid, stdin kept open for later writes).
   */
  async startProcess(bunkerId: string, request: HostExecRequest, mode: { background: true } | { background: false; out: Writable }): Promise<GuestProcess> {
    const { proc, pid } = await this.spawn(bunkerId, request, mode.background || request.stdinOpen === true);
    const process = new GuestProcess(pid, request.argv, mode.background, proc);
    if (!mode.background) process.attach(mode.out, { replay: false, follow: true });
    const table = this.processes.get(bunkerId) ?? new Map<number, GuestProcess>();
    this.processes.set(bunkerId, table);
    table.set(pid, process);
    // Finished processes are remembered (their output can still be read) up to a bound.
    const finished = [...table.values()].filter((p) => p.exited);
    for (const old of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) table.delete(old.pid);
    return process;
  }

  /**
   * Opens an interactive login shell (bash where the image has it) on a PTY of the given size,
   * as the image's user unless `user` says otherwise. It lives on when its client detaches.
   */
  async openShell(bunkerId: string, options: { cols: number; rows: number; user?: string | undefined; env: Record<string, string> }): Promise<ShellSession> {
    const { agent } = this.vm(bunkerId);
    const proc = agent.exec({
      argv: ['/bin/sh', '-c', 'exec "$(command -v bash || echo /bin/sh)" -l'],
      env: options.env, ...runAs(options.user), stdin: true, pty: { cols: options.cols, rows: options.rows },
    });
    await proc.pid;
    const table = this.shells.get(bunkerId) ?? new Map<string, ShellSession>();
    this.shells.set(bunkerId, table);
    // An ended session answers status (its exit) for a minute, for a client reading it last.
    const session = new ShellSession(proc, () => { setTimeout(() => table.delete(session.id), 60_000).unref(); });
    table.set(session.id, session);
    return session;
  }

  /** A shell session of this bunker that is still open; NOT_FOUND otherwise (it ended, or never was). */
  shell(bunkerId: string, sessionId: string): ShellSession {
    this.vm(bunkerId);
    const session = this.shells.get(bunkerId)?.get(sessionId);
    if (!session) throw new ScaiError('NOT_FOUND', 'No open shell session with that id in this bunker (it ended, or it never was).');
    return session;
  }

  /** A process the API started in this bunker; NOT_FOUND for any other pid. */
  process(bunkerId: string, pid: number): GuestProcess {
    this.vm(bunkerId);
    const process = this.processes.get(bunkerId)?.get(pid);
    if (!process) throw new ScaiError('NOT_FOUND', `No process ${pid} started through the API in this bunker.`);
    return process;
  }

  listProcesses(bunkerId: string): ProcessInfo[] {
    this.vm(bunkerId);
    return [...(this.processes.get(bunkerId)?.values() ?? [])].map((p) => p.info);
  }

  /** A file's bytes, streamed from the guest (the caller must consume or destroy `content`). */
  async readFile(bunkerId: string, path: string): Promise<{ size: number; mode: number; content: Readable; done: Promise<void> }> {
    return this.vm(bunkerId).agent.readFile(path);
  }

  /**
   * Streams `content` into a guest file. New files belong to the image's `user` (so what the
   * API uploads, the user's commands can change), unless `asRoot`.
   */
  async writeFile(bunkerId: string, path: string, content: Readable, options: { mode?: number | undefined; asRoot?: boolean }): Promise<{ size: number }> {
    const owner = options.asRoot ? { uid: 0, gid: 0 } : runAs(undefined);
    return this.vm(bunkerId).agent.writeFile(path, content, { ...(options.mode === undefined ? {} : { mode: options.mode }), ...owner });
  }

  stat(bunkerId: string, path: string): Promise<GuestStat> {
    return this.vm(bunkerId).agent.stat(path);
  }

  list(bunkerId: string, path: string): Promise<{ entries: GuestDirEntry[]; truncated: boolean }> {
    return this.vm(bunkerId).agent.list(path);
  }

  async mkdir(bunkerId: string, path: string, mode: number | undefined): Promise<void> {
    const { agent } = this.vm(bunkerId);
    await agent.mkdir(path, { parents: true, ...(mode === undefined ? {} : { mode }) });
  }

  async remove(bunkerId: string, path: string, recursive: boolean): Promise<void> {
    await this.vm(bunkerId).agent.remove(path, { recursive });
  }

  /** Lets go of every VM without stopping it: a later worker process adopts them. */
  detachAll(): void {
    for (const vm of this.vms.values()) vm.agent.close();
    this.vms.clear();
  }

  /** Stops every VM (worker shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all(this.ids().map((id) => this.stop(id)));
  }

  private vm(bunkerId: string): RuntimeVm {
    const vm = this.vms.get(bunkerId);
    if (!vm) throw new ScaiError('NOT_FOUND', `Bunker ${bunkerId} does not run on this worker.`);
    return vm;
  }
}

/** Resolves a user name or numeric id against the guest's /etc/passwd. */
