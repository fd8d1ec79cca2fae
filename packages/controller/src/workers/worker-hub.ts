import { randomUUID } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LINK_CALLS, LINK_EVENTS, ScaiError, type ExecResult } from '@scaibunker/contracts';
import type { LinkPeer } from '@scaibunker/link';
import type { Repositories, WorkerRegistration } from '@scaibunker/db';
import type { BunkerService } from '../bunkers/bunker-service.js';
import type { BunkerLaunch, ExecRequest, GuestStat, ProcessInfo, WorkerGateway, WorkerNetworkStatus } from '../bunkers/worker-gateway.js';

/** Timing of the worker links. */
export interface WorkerHubOptions {
  /** How often workers beat (told to them in the hello reply). */
  heartbeatIntervalMs: number;
  /** A worker silent this long is lost: its link is dropped and its bunkers failed. */
  staleAfterMs: number;
  /** How long a start may take on the worker (image template build included). */
  startTimeoutMs: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** What a worker says when its link comes up (the `worker.hello` call). */
interface WorkerHello extends Omit<WorkerRegistration, 'images'> {
  images: Record<string, string>;
  /** Bunkers whose VMs run on it right now: kept across a dropped link or a controller restart. */
  bunkers: string[];
}

interface LiveLink { peer: LinkPeer; sessionId: string }

/**
 * The controller's side of every worker link: registers workers as they dial in, reconciles
 * their running bunkers with the database, watches heartbeats, and carries the bunker
 * service's calls to the right worker (WorkerGateway). The controller never dials a worker.
 */
export class WorkerHub implements WorkerGateway {
  private readonly links = new Map<string, LiveLink>();
  private monitor: NodeJS.Timeout | undefined;
  private bunkers: BunkerService | undefined;

  constructor(
    private readonly repos: Repositories,
    private readonly options: WorkerHubOptions,
  ) {}

  /** The service that fails a lost worker's bunkers; set once both exist (they refer to each other). */
  bindBunkers(bunkers: BunkerService): void {
    this.bunkers = bunkers;
  }

  /** Serves a freshly authenticated worker link until it closes. */
  attach(workerId: string, peer: LinkPeer): void {
    const sessionId = randomUUID();
    const previous = this.links.get(workerId);
    // A worker has one link: a new one (a reconnect the old side has not noticed) replaces it.
    if (previous) previous.peer.close('replaced by a newer link from the same worker');
    const link = { peer, sessionId };
    this.links.set(workerId, link);
    peer.handle(LINK_CALLS.hello, async (params) => this.hello(workerId, sessionId, parseHello(params)));
    peer.on(LINK_EVENTS.heartbeat, () => { void this.repos.workers.heartbeat(workerId, sessionId, new Date().toISOString()); });
    peer.on(LINK_EVENTS.bunkerExited, (payload) => {
      const { bunker_id: bunkerId, reason } = (payload ?? {}) as { bunker_id?: unknown; reason?: unknown };
      if (typeof bunkerId !== 'string') return;
      void this.bunkers?.fail(bunkerId, ['running', 'paused'], `the VM ended on its worker: ${typeof reason === 'string' ? reason.slice(0, 300) : 'unknown'}`);
    });
    peer.onClose((reason) => {
      if (this.links.get(workerId) === link) this.links.delete(workerId);
      this.options.log.info({ workerId, reason: reason.message }, 'worker link closed');
      // The bunkers stay: a worker that comes back within the stale window keeps them.
      void this.repos.workers.disconnect(workerId, sessionId);
    });
  }

  private async hello(workerId: string, sessionId: string, hello: WorkerHello): Promise<{ worker_id: string; heartbeat_interval_ms: number }> {
    const at = new Date().toISOString();
    await this.repos.workers.register(workerId, sessionId, hello, at);
    const running = new Set(hello.bunkers);
    for (const bunker of await this.repos.bunkers.live(workerId)) {
      // Provisioning ones may still be starting; their start call settles them either way.
      if ((bunker.status === 'running' || bunker.status === 'paused') && !running.has(bunker.id)) {
        await this.bunkers?.fail(bunker.id, ['running', 'paused'], 'its worker came back without its VM (the host restarted, or the VM died meanwhile)');
      }
      running.delete(bunker.id);
    }
    // VMs the database no longer wants (ended while the link was down): stop them.
    for (const orphan of running) void this.stopBunker(workerId, orphan).catch(() => undefined);
    this.options.log.info({ workerId, version: hello.version, bunkers: hello.bunkers.length }, 'worker registered');
    return { worker_id: workerId, heartbeat_interval_ms: this.options.heartbeatIntervalMs };
  }

  /** Starts the heartbeat watch: stale workers lose their link and their bunkers fail. */
  start(): void {
    this.monitor = setInterval(() => { void this.sweep().catch((error) => this.options.log.warn({ err: error }, 'heartbeat sweep failed')); }, Math.min(5000, this.options.staleAfterMs / 3));
    this.monitor.unref();
  }

  /** One pass of the heartbeat watch; also fails bunkers left on workers that never came back. */
  async sweep(now = Date.now()): Promise<void> {
    const before = new Date(now - this.options.staleAfterMs).toISOString();
    for (const worker of await this.repos.workers.stale(before)) {
      this.options.log.warn({ workerId: worker.id, lastHeartbeat: worker.last_heartbeat_at }, 'worker heartbeat stale: failing its bunkers');
      this.links.get(worker.id)?.peer.close('heartbeat stale');
      this.links.delete(worker.id);
      await this.repos.workers.disconnect(worker.id, worker.session_id!);
    }
    // Bunkers on offline workers whose last beat is older than the stale window are lost.
    for (const bunker of await this.repos.bunkers.live()) {
      if (!bunker.worker_id || this.links.has(bunker.worker_id)) continue;
      const worker = await this.repos.workers.get(bunker.worker_id);
      if (worker && worker.session_id === null && (worker.last_heartbeat_at ?? '') < before) {
        await this.bunkers?.fail(bunker.id, ['pending', 'provisioning', 'running', 'paused'], 'its worker stopped sending heartbeats');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.monitor);
    for (const { peer } of this.links.values()) peer.close('the controller is shutting down');
    this.links.clear();
  }

  isConnected(workerId: string): boolean {
    return this.links.has(workerId);
  }

  async startBunker(workerId: string, launch: BunkerLaunch): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.startBunker, launch, { timeoutMs: this.options.startTimeoutMs });
  }

  async stopBunker(workerId: string, bunkerId: string): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.stopBunker, { bunkerId }, { timeoutMs: 30_000 });
  }

  async pauseBunker(workerId: string, bunkerId: string): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.pauseBunker, { bunkerId });
  }

  async resumeBunker(workerId: string, bunkerId: string): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.resumeBunker, { bunkerId });
  }

  exec(workerId: string, bunkerId: string, request: ExecRequest): Promise<ExecResult> {
    // The worker enforces the command's own timeout; the call allows a margin beyond it.
    return this.peer(workerId).call<ExecResult>(LINK_CALLS.exec, { bunkerId, ...request }, { timeoutMs: request.timeoutS * 1000 + 30_000 });
  }

  async readFile(workerId: string, bunkerId: string, path: string): Promise<{ size: number; mode: number; content: Readable }> {
    const peer = this.peer(workerId);
    const reply = await peer.call<{ size: number; mode: number; stream: number }>(LINK_CALLS.fileRead, { bunkerId, path });
    const content = peer.acceptStream(reply.stream);
    content.end(); // this side only reads
    return { size: reply.size, mode: reply.mode, content };
  }

  async writeFile(workerId: string, bunkerId: string, path: string, content: Readable, options: { mode?: number | undefined; asRoot: boolean }): Promise<{ size: number }> {
    const peer = this.peer(workerId);
    const upload = peer.openStream();
    upload.resume(); // the worker only reads; its END arrives on this side's read half
    const sent = pipeline(content, upload);
    sent.catch(() => undefined);
    try {
      // No timeout: a large upload takes as long as its sender does; a dead link fails the call.
      return await peer.call<{ size: number }>(LINK_CALLS.fileWrite, { bunkerId, path, stream: upload.id, mode: options.mode, asRoot: options.asRoot }, { timeoutMs: Infinity });
    } catch (error) {
      upload.destroy();
      throw error;
    }
  }

  stat(workerId: string, bunkerId: string, path: string): Promise<GuestStat> {
    return this.peer(workerId).call<GuestStat>(LINK_CALLS.fileStat, { bunkerId, path });
  }

  list(workerId: string, bunkerId: string, path: string): Promise<{ entries: (GuestStat & { name: string })[]; truncated: boolean }> {
    return this.peer(workerId).call(LINK_CALLS.fileList, { bunkerId, path });
  }

  async mkdir(workerId: string, bunkerId: string, path: string, mode: number | undefined): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.fileMkdir, { bunkerId, path, mode });
  }

  async remove(workerId: string, bunkerId: string, path: string, recursive: boolean): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.fileRemove, { bunkerId, path, recursive });
  }

  async startProcess(workerId: string, bunkerId: string, request: ExecRequest, background: boolean): Promise<{ pid: number; output?: Readable }> {
    const peer = this.peer(workerId);
    if (background) return peer.call<{ pid: number }>(LINK_CALLS.processStart, { bunkerId, ...request, background: true });
    const output = peer.openStream();
    output.end(); // this side only reads
    try {
      const { pid } = await peer.call<{ pid: number }>(LINK_CALLS.processStart, { bunkerId, ...request, stream: output.id });
      return { pid, output };
    } catch (error) {
      output.destroy();
      throw error;
    }
  }

  async processOutput(workerId: string, bunkerId: string, pid: number, follow: boolean): Promise<Readable> {
    const peer = this.peer(workerId);
    const { stream } = await peer.call<{ stream: number }>(LINK_CALLS.processOutput, { bunkerId, pid, follow });
    const output = peer.acceptStream(stream);
    output.end(); // this side only reads
    return output;
  }

  async createBridge(workerId: string, bridgeId: string): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.bridgeCreate, { bridgeId });
  }

  async deleteBridge(workerId: string, bridgeId: string): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.bridgeDelete, { bridgeId });
  }

  bunkerNetwork(workerId: string, bunkerId: string): Promise<WorkerNetworkStatus> {
    return this.peer(workerId).call<WorkerNetworkStatus>(LINK_CALLS.bunkerNetwork, { bunkerId });
  }

  listProcesses(workerId: string, bunkerId: string): Promise<ProcessInfo[]> {
    return this.peer(workerId).call<ProcessInfo[]>(LINK_CALLS.processList, { bunkerId });
  }

  async signalProcess(workerId: string, bunkerId: string, pid: number, signal: number): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.processSignal, { bunkerId, pid, signal });
  }

  async writeStdin(workerId: string, bunkerId: string, pid: number, data: string, eof: boolean): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.processStdin, { bunkerId, pid, data, eof });
  }

  async streamStdin(workerId: string, bunkerId: string, pid: number, content: Readable, eof: boolean): Promise<{ bytes: number }> {
    const peer = this.peer(workerId);
    const upload = peer.openStream();
    upload.resume(); // the worker only reads
    const sent = pipeline(content, upload);
    sent.catch(() => undefined);
    try {
      // No timeout: stdin flows as long as its sender writes and the process reads.
      return await peer.call<{ bytes: number }>(LINK_CALLS.processStdin, { bunkerId, pid, stream: upload.id, eof }, { timeoutMs: Infinity });
    } catch (error) {
      upload.destroy();
      throw error;
    }
  }

  async attachShell(workerId: string, bunkerId: string, options: { session?: string | undefined; cols?: number | undefined; rows?: number | undefined; user?: string | undefined; env: Record<string, string> }): Promise<{ session: string; terminal: Duplex }> {
    const peer = this.peer(workerId);
    const terminal = peer.openStream();
    try {
      const { session } = await peer.call<{ session: string }>(LINK_CALLS.shellAttach, { bunkerId, ...options, stream: terminal.id });
      return { session, terminal };
    } catch (error) {
      terminal.destroy();
      throw error;
    }
  }

  async resizeShell(workerId: string, bunkerId: string, session: string, cols: number, rows: number): Promise<void> {
    await this.peer(workerId).call(LINK_CALLS.shellResize, { bunkerId, session, cols, rows });
  }

  shellStatus(workerId: string, bunkerId: string, session: string): Promise<{ open: boolean; exit: ProcessInfo['exit'] }> {
    return this.peer(workerId).call(LINK_CALLS.shellStatus, { bunkerId, session });
  }

  private peer(workerId: string): LinkPeer {
    const link = this.links.get(workerId);
    if (!link) throw new ScaiError('WORKER_UNAVAILABLE', 'The bunker’s worker is not connected right now; retry shortly.');
    return link.peer;
  }
}

/** Validates a worker's hello: a worker is trusted to run VMs, not to feed the database garbage. */
function parseHello(params: unknown): WorkerHello {
  const p = (params ?? {}) as Record<string, unknown>;
  const count = (key: string) => {
    const value = p[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 40) throw new ScaiError('VALIDATION_ERROR', `hello.${key} must be a non-negative integer.`);
    return value;
  };
  const text = (key: string, nullable = false) => {
    const value = p[key];
    if (nullable && (value === null || value === undefined)) return null;
    if (typeof value !== 'string' || value.length > 200) throw new ScaiError('VALIDATION_ERROR', `hello.${key} must be a short string.`);
    return value;
  };
  const images = p.images && typeof p.images === 'object' ? Object.entries(p.images as Record<string, unknown>) : [];
  const bunkers = Array.isArray(p.bunkers) ? p.bunkers : [];
  if (images.length > 10_000 || bunkers.length > 100_000) throw new ScaiError('VALIDATION_ERROR', 'hello lists too many images or bunkers.');
  return {
    cpuMillicores: count('cpuMillicores'), memoryMb: count('memoryMb'), diskMb: count('diskMb'), gpuCount: count('gpuCount'),
    gpuType: text('gpuType', true), version: text('version')!, accelerator: text('accelerator')!, networkReady: p.network === true,
    images: Object.fromEntries(images.filter(([name, state]) => name.length <= 64 && typeof state === 'string' && state.length <= 32) as [string, string][]),
    bunkers: bunkers.filter((id): id is string => typeof id === 'string' && id.length <= 64),
  };
}
