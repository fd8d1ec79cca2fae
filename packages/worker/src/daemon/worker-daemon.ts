import { statfs } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { WebSocket } from 'ws';
import { isId, LINK_CALLS, LINK_EVENTS, ScaiError, TransitInterface, WORKER_LINK_PATH, type BunkerNetworkLaunch, type TransitInterfaceLaunch } from '@scaibunker/contracts';
import { LINK_MAX_PAYLOAD_BYTES, LINK_SUBPROTOCOL, LinkPeer, wsChannel } from '@scaibunker/link';
import type { BunkerNetworks } from '../network/bunker-networks.js';
import type { VmRuntime } from '../runtime/vm-runtime.js';
import { BunkerHost, type BunkerLaunch, type HostExecRequest } from './bunker-host.js';
import { WarmPool, type WarmPoolSpec } from './warm-pool.js';

/** How a worker daemon finds its controller and what it offers. */
export interface WorkerDaemonOptions {
  /** The controller's base URL, e.g. `http://127.0.0.1:8080`. */
  controllerUrl: string;
  /** The credential an admin issued with `POST /workers`. */
  token: string;
  runtime: VmRuntime;
  version: string;
  /** CPU offered to bunkers, in millicores (default: 1000 per host core). */
  cpuMillicores?: number;
  /** Memory offered to bunkers (default: 90 % of the host's). */
  memoryMb?: number;
  /** Disk offered to bunkers (default: what is free where the data directory lives). */
  diskMb?: number;
  /** Restored VMs kept idle per image (see warm-pool.ts); their share is not offered to bunkers. */
  warmPool?: WarmPoolSpec[];
  /** Networks for networked bunkers (see BunkerNetworks.open); without it only isolated bunkers run here. */
  networks?: BunkerNetworks;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

/**
 * The worker side of the controller link: dials out (the controller never connects to a
 * worker), says hello with its capacity, images and running bunkers, heartbeats, serves the
 * controller's calls on its BunkerHost, and redials with backoff whenever the link drops.
 * The bunkers keep running while the link is down; the next hello lists them again.
 */
export class WorkerDaemon {
  readonly bunkers: BunkerHost;
  private peer: LinkPeer | undefined;
  private socket: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private redial: NodeJS.Timeout | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private stopped = false;
  private connectedOnce: { resolve: () => void; promise: Promise<void> };

  readonly pool: WarmPool | undefined;

  constructor(private readonly options: WorkerDaemonOptions) {
    this.pool = options.warmPool?.length ? new WarmPool(options.runtime, options.warmPool, options.log) : undefined;
    // A VM that ends unasked is reported at once; if the link is down, the next hello's
    // reconciliation fails the bunker instead.
    this.bunkers = new BunkerHost(options.runtime, this.pool, (bunkerId, reason) => this.peer?.notify(LINK_EVENTS.bunkerExited, { bunker_id: bunkerId, reason }), options.networks);
    let resolve!: () => void;
    this.connectedOnce = { promise: new Promise<void>((r) => { resolve = r; }), resolve };
  }

  /**
   * Takes over the VMs a previous worker process left running, then dials (the warm pools fill
   * meanwhile); resolves once the first hello, which lists those VMs' bunkers, was accepted.
   */
  async start(): Promise<void> {
    await this.bunkers.adoptAll(await this.options.runtime.adoptRunning());
    void this.pool?.fill();
    this.dial();
    return this.connectedOnce.promise;
  }

  /**
   * Drops the link and stops the warm pools. Bunker VMs are stopped too, unless `keepBunkers`:
   * then they run on (detached), and the next worker process on this data directory adopts
   * them, so an upgrade or a restart of the worker never ends a bunker.
   */
  async stop(options: { keepBunkers?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.redial);
    clearInterval(this.heartbeat);
    this.peer?.close('the worker is shutting down');
    this.socket?.terminate();
    await Promise.all([options.keepBunkers ? this.bunkers.detachAll() : this.bunkers.stopAll(), this.pool?.stop()]);
    await this.options.networks?.close();
  }

  /** Whether the link is up right now. */
  get connected(): boolean {
    return this.peer !== undefined && this.peer.closeReason === null;
  }

  private networksOrRefuse(): BunkerNetworks {
    if (!this.options.networks) throw new ScaiError('NOT_SUPPORTED', 'This worker has no bunker networking set up (SCAIBUNKER_NETWORK=off, or the host could not).');
    return this.options.networks;
  }

  private dial(): void {
    if (this.stopped) return;
    const url = new URL(WORKER_LINK_PATH, this.options.controllerUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, LINK_SUBPROTOCOL, {
      headers: { authorization: `Bearer ${this.options.token}` }, maxPayload: LINK_MAX_PAYLOAD_BYTES, handshakeTimeout: 10_000,
    });
    this.socket = socket;
    let opened = false;
    socket.once('open', () => {
      opened = true;
      const peer = new LinkPeer(wsChannel(socket), {
        role: 'dialer', onError: (error, context) => this.options.log.warn({ err: error, context }, 'worker link error'),
      });
      this.peer = peer;
      this.serve(peer);
      peer.onClose((reason) => this.lost(reason.message));
      void this.hello(peer);
    });
    socket.once('unexpected-response', (_request, response) => {
      this.options.log.warn({ status: response.statusCode }, 'the controller refused this worker’s link (check its token)');
    });
    socket.once('error', (error) => { if (!opened) this.lost(error.message); });
    socket.once('close', () => { if (!opened) this.lost('closed before it opened'); });
  }

  private lost(reason: string): void {
    clearInterval(this.heartbeat);
    this.peer = undefined;
    if (this.stopped || this.redial) return;
    this.options.log.warn({ reason, retryInMs: this.backoffMs }, 'controller link down; redialing');
    this.redial = setTimeout(() => { this.redial = undefined; this.dial(); }, this.backoffMs);
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
  }

  private async hello(peer: LinkPeer): Promise<void> {
    try {
      const { dataDir } = this.options.runtime.options;
      const disk = await statfs(dataDir);
      const images = await this.options.runtime.images.list();
      const reply = await peer.call<{ worker_id: string; heartbeat_interval_ms: number }>(LINK_CALLS.hello, {
        // What the warm pools hold is the worker's own: never offered twice.
        cpuMillicores: Math.max(0, (this.options.cpuMillicores ?? cpus().length * 1000) - (this.pool?.reserved.cpuMillicores ?? 0)),
        memoryMb: Math.max(0, (this.options.memoryMb ?? Math.floor((totalmem() / 2 ** 20) * 0.9)) - (this.pool?.reserved.memoryMb ?? 0)),
        diskMb: this.options.diskMb ?? Math.floor((disk.bavail * disk.bsize) / 2 ** 20),
        gpuCount: 0, gpuType: null,
        version: this.options.version,
        accelerator: this.options.runtime.accelerator.accelerator,
        // Firecracker opens no taps of ours yet: its bunkers stay isolated (see firecracker-driver.ts).
        network: this.options.networks !== undefined && this.options.runtime.vmm === 'qemu',
        images: Object.fromEntries(images.map((image) => [image.name, 'ready'])),
        bunkers: this.bunkers.ids(),
      });
      this.backoffMs = BACKOFF_MIN_MS;
      const every = Math.max(500, Math.min(60_000, reply.heartbeat_interval_ms));
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => peer.notify(LINK_EVENTS.heartbeat, {}), every);
      this.heartbeat.unref();
      this.options.log.info({ workerId: reply.worker_id }, 'connected to the controller');
      this.connectedOnce.resolve();
    } catch (error) {
      this.options.log.warn({ err: error }, 'hello refused; redialing');
      peer.close('hello failed');
    }
  }

  private serve(peer: LinkPeer): void {
    peer.handle(LINK_CALLS.startBunker, (params) => this.bunkers.start(launchOf(params)));
    peer.handle(LINK_CALLS.stopBunker, (params) => this.bunkers.stop(bunkerIdOf(params)));
    peer.handle(LINK_CALLS.pauseBunker, (params) => this.bunkers.pause(bunkerIdOf(params)));
    peer.handle(LINK_CALLS.resumeBunker, (params) => this.bunkers.resume(bunkerIdOf(params)));
    peer.handle(LINK_CALLS.bunkerNetwork, (params) => this.bunkers.networkStatus(bunkerIdOf(params)));
    peer.handle(LINK_CALLS.bridgeCreate, (params) => this.networksOrRefuse().bridges.create(bridgeIdOf(params)));
    peer.handle(LINK_CALLS.bridgeDelete, (params) => this.networksOrRefuse().bridges.delete(bridgeIdOf(params)));
    peer.handle(LINK_CALLS.exec, (params) => this.bunkers.exec(bunkerIdOf(params), execOf(params)));
    peer.handle(LINK_CALLS.fileRead, async (params, ctx) => {
      const file = await this.bunkers.readFile(bunkerIdOf(params), pathOf(params));
      const stream = ctx.link.openStream();
      stream.on('error', () => file.content.destroy());
      // This side only writes: its read half ends now, so the id is freed once the data is sent.
      stream.resume();
      pipeline(file.content, stream).catch(() => undefined);
      return { size: file.size, mode: file.mode, stream: stream.id };
    });
    peer.handle(LINK_CALLS.fileWrite, async (params, ctx) => {
      const { stream: streamId, mode, asRoot } = (params ?? {}) as { stream?: unknown; mode?: unknown; asRoot?: unknown };
      if (typeof streamId !== 'number') throw new ScaiError('VALIDATION_ERROR', 'file.write needs a stream.');
      const stream = ctx.link.acceptStream(streamId);
      stream.on('error', () => undefined);
      stream.end(); // this side only reads
      return this.bunkers.writeFile(bunkerIdOf(params), pathOf(params), stream, {
        mode: typeof mode === 'number' ? mode : undefined, asRoot: asRoot === true,
      });
    });
    peer.handle(LINK_CALLS.processStart, async (params, ctx) => {
      const { background, stream: streamId } = (params ?? {}) as { background?: unknown; stream?: unknown };
      const request = execOf(params);
      if (background === true) return { pid: (await this.bunkers.startProcess(bunkerIdOf(params), request, { background: true })).pid };
      if (typeof streamId !== 'number') throw new ScaiError('VALIDATION_ERROR', 'process.start needs background or a stream.');
      const out = ctx.link.acceptStream(streamId);
      out.on('error', () => undefined);
      out.resume(); // this side only writes
      const process = await this.bunkers.startProcess(bunkerIdOf(params), request, { background: false, out });
      return { pid: process.pid };
    });
    peer.handle(LINK_CALLS.processOutput, (params, ctx) => {
      const process = this.bunkers.process(bunkerIdOf(params), pidOf(params));
      const out = ctx.link.openStream();
      out.on('error', () => undefined);
      out.resume();
      process.attach(out, { replay: true, follow: (params as { follow?: unknown }).follow === true });
      return { stream: out.id };
    });
    peer.handle(LINK_CALLS.processList, (params) => this.bunkers.listProcesses(bunkerIdOf(params)));
    peer.handle(LINK_CALLS.processSignal, (params) => {
      const signal = (params as { signal?: unknown }).signal;
      if (typeof signal !== 'number' || !Number.isInteger(signal) || signal < 1 || signal > 64) throw new ScaiError('VALIDATION_ERROR', 'signal must be 1–64.');
      this.bunkers.process(bunkerIdOf(params), pidOf(params)).signal(signal);
    });
    peer.handle(LINK_CALLS.processStdin, async (params, ctx) => {
      const { data, eof, stream: streamId } = (params ?? {}) as { data?: unknown; eof?: unknown; stream?: unknown };
      const process = this.bunkers.process(bunkerIdOf(params), pidOf(params));
      if (typeof streamId === 'number') {
        const stream = ctx.link.acceptStream(streamId);
        stream.on('error', () => undefined);
        stream.end(); // this side only reads
        if (process.exited) {
          stream.destroy();
          throw new ScaiError('CONFLICT', 'The process has exited.');
        }
        return { bytes: await process.pipeStdin(stream, eof === true) };
      }
      if (process.exited) throw new ScaiError('CONFLICT', 'The process has exited.');
      if (typeof data === 'string' && data.length > 0) await process.write(data);
      if (eof === true) process.closeStdin();
    });
    peer.handle(LINK_CALLS.shellAttach, async (params, ctx) => {
      const { session: sessionId, stream: streamId, cols, rows, user, env } = (params ?? {}) as Record<string, unknown>;
      if (typeof streamId !== 'number') throw new ScaiError('VALIDATION_ERROR', 'shell.attach needs a stream.');
      const bunkerId = bunkerIdOf(params);
      const session = typeof sessionId === 'string'
        ? this.bunkers.shell(bunkerId, sessionId)
        : await this.bunkers.openShell(bunkerId, {
          cols: terminalSize(cols, 80), rows: terminalSize(rows, 24), user: typeof user === 'string' ? user : undefined,
          env: env && typeof env === 'object' ? env as Record<string, string> : {},
        });
      if (typeof sessionId === 'string' && (cols !== undefined || rows !== undefined)) session.resize(terminalSize(cols, 80), terminalSize(rows, 24));
      const client = ctx.link.acceptStream(streamId);
      client.on('error', () => undefined);
      session.attach(client);
      return { session: session.id };
    });
    peer.handle(LINK_CALLS.shellResize, (params) => {
      const { session, cols, rows } = (params ?? {}) as Record<string, unknown>;
      this.bunkers.shell(bunkerIdOf(params), String(session)).resize(terminalSize(cols, 80), terminalSize(rows, 24));
    });
    peer.handle(LINK_CALLS.shellStatus, (params) => {
      const { session } = (params ?? {}) as Record<string, unknown>;
      try {
        return { open: true, exit: this.bunkers.shell(bunkerIdOf(params), String(session)).exit };
      } catch {
        return { open: false, exit: null };
      }
    });
    peer.handle(LINK_CALLS.fileStat, (params) => this.bunkers.stat(bunkerIdOf(params), pathOf(params)));
    peer.handle(LINK_CALLS.fileList, (params) => this.bunkers.list(bunkerIdOf(params), pathOf(params)));
    peer.handle(LINK_CALLS.fileMkdir, (params) => {
      const mode = (params as { mode?: unknown }).mode;
      return this.bunkers.mkdir(bunkerIdOf(params), pathOf(params), typeof mode === 'number' ? mode : undefined);
    });
    peer.handle(LINK_CALLS.fileRemove, (params) => this.bunkers.remove(bunkerIdOf(params), pathOf(params), (params as { recursive?: unknown }).recursive === true));
  }
}

// The controller is trusted, but a malformed call must fail cleanly, not reach the VM layer.

function bunkerIdOf(params: unknown): string {
  const id = (params as { bunkerId?: unknown } | null)?.bunkerId;
  if (!isId('bunker', id)) throw new ScaiError('VALIDATION_ERROR', 'bunkerId is missing or malformed.');
  return id;
}

function terminalSize(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1000 ? value : fallback;
}

function pidOf(params: unknown): number {
  const pid = (params as { pid?: unknown } | null)?.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 1) throw new ScaiError('VALIDATION_ERROR', 'pid must be a positive integer.');
  return pid;
}

function pathOf(params: unknown): string {
  const path = (params as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 4096 || path.includes('\0')) throw new ScaiError('VALIDATION_ERROR', 'path must be an absolute path.');
  return path;
}

function launchOf(params: unknown): BunkerLaunch {
  const p = params as Partial<BunkerLaunch>;
  const positive = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (typeof p.image !== 'string' || !positive(p.cpuMillicores) || !positive(p.memoryMb) || !positive(p.diskMb) || typeof p.envVars !== 'object' || p.envVars === null) {
    throw new ScaiError('VALIDATION_ERROR', 'bunker.start needs image, cpuMillicores, memoryMb, diskMb and envVars.');
  }
  return { bunkerId: bunkerIdOf(params), image: p.image, cpuMillicores: p.cpuMillicores!, memoryMb: p.memoryMb!, diskMb: p.diskMb!, envVars: p.envVars, network: networkOf(p.network) };
}

const NETWORKED_PROFILES: readonly string[] = ['registry', 'allowlisted', 'unrestricted', 'transit'] satisfies BunkerNetworkLaunch['profile'][];

function networkOf(value: unknown): BunkerNetworkLaunch | undefined {
  if (value === undefined || value === null) return undefined;
  const p = value as Partial<BunkerNetworkLaunch>;
  if (typeof p.profile !== 'string' || !NETWORKED_PROFILES.includes(p.profile)) {
    throw new ScaiError('VALIDATION_ERROR', `bunker.start network.profile must be one of ${NETWORKED_PROFILES.join(', ')}.`);
  }
  if (p.allowlist !== undefined && !(Array.isArray(p.allowlist) && p.allowlist.every((entry) => typeof entry === 'string'))) {
    throw new ScaiError('VALIDATION_ERROR', 'bunker.start network.allowlist must be a list of names.');
  }
  if (p.profile === 'allowlisted' && !p.allowlist?.length) throw new ScaiError('VALIDATION_ERROR', 'bunker.start: an allowlisted network needs its allowlist.');
  if (p.bandwidthMbit !== undefined && !(Number.isInteger(p.bandwidthMbit) && p.bandwidthMbit >= 1 && p.bandwidthMbit <= 10_000)) {
    throw new ScaiError('VALIDATION_ERROR', 'bunker.start network.bandwidthMbit must be 1–10000.');
  }
  const interfaces = p.interfaces === undefined ? undefined : transitOf(p.interfaces);
  if (p.profile === 'transit' && !interfaces?.length) throw new ScaiError('VALIDATION_ERROR', 'bunker.start: a transit network needs its interfaces.');
  return {
    profile: p.profile, ...(p.allowlist ? { allowlist: p.allowlist } : {}), ...(p.bandwidthMbit ? { bandwidthMbit: p.bandwidthMbit } : {}),
    ...(p.egressAudit === true ? { egressAudit: true } : {}), ...(interfaces ? { interfaces } : {}),
  };
}

// The API's own patterns for an interface's name and MAC: one source for what they may be.
const IF_NAME = new RegExp(TransitInterface.properties.if_name.pattern!);
const MAC = new RegExp(TransitInterface.properties.mac.pattern!);

/** Transit interfaces as the link carries them; their names and MACs end up in shell-free guest and nft input, so they are checked strictly. */
function transitOf(value: unknown): TransitInterfaceLaunch[] {
  const valid = (i: Partial<TransitInterfaceLaunch>) => typeof i.ifName === 'string' && IF_NAME.test(i.ifName)
    && isId('bridge', i.bridgeId) && typeof i.mac === 'string' && MAC.test(i.mac) && typeof i.spoofGuard === 'boolean';
  if (!Array.isArray(value) || value.length > 8 || !value.every((i) => typeof i === 'object' && i !== null && valid(i as Partial<TransitInterfaceLaunch>))) {
    throw new ScaiError('VALIDATION_ERROR', 'bunker.start network.interfaces must be at most 8 {ifName, bridgeId, mac, spoofGuard}.');
  }
  return (value as TransitInterfaceLaunch[]).map((i) => ({ ifName: i.ifName, bridgeId: i.bridgeId, mac: i.mac, spoofGuard: i.spoofGuard }));
}

function execOf(params: unknown): HostExecRequest {
  const p = params as Partial<HostExecRequest>;
  if (!Array.isArray(p.argv) || p.argv.length === 0 || !p.argv.every((a) => typeof a === 'string')
    || typeof p.env !== 'object' || p.env === null || typeof p.timeoutS !== 'number' || typeof p.outputCapBytes !== 'number') {
    throw new ScaiError('VALIDATION_ERROR', 'exec.run needs argv, env, timeoutS and outputCapBytes.');
  }
  return { argv: p.argv, env: p.env, cwd: p.cwd, user: p.user, stdin: p.stdin, stdinOpen: p.stdinOpen === true, timeoutS: p.timeoutS, outputCapBytes: p.outputCapBytes };
}

function bridgeIdOf(params: unknown): string {
  const id = (params as { bridgeId?: unknown }).bridgeId;
  if (!isId('bridge', id)) throw new ScaiError('VALIDATION_ERROR', 'bridge calls need a bridgeId.');
  return id;
}
