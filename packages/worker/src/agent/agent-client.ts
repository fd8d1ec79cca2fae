import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ScaiError } from '@scaibunker/contracts';
import { Channel, FrameDecoder, FrameType, PROTO_VERSION, encodeFrame, type Frame } from './frame.js';
import { AgentError } from './agent-error.js';
import { AgentStream } from './agent-stream.js';
import { Key, TlvFields, encodeTlv, type TlvValue } from './tlv.js';

/** What the agent says about itself. */
export interface AgentHello {
  protoVersion: number;
  agentVersion: string;
  uptimeMs: number;
}

/** A command to run in the guest. */
export interface ExecRequest {
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /**
   * An account of the image (name or number), resolved by the agent from its /etc/passwd:
   * uid, gid, HOME, and the working directory when `cwd` is not given. When it names no
   * account, `uid`/`gid` stand in; without them the exec fails with VALIDATION_ERROR.
   */
  user?: string;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  /** Whether the caller will write stdin (otherwise the process reads /dev/null). */
  stdin?: boolean;
  /** Run under a PTY of this size; output then comes on stdout only. */
  pty?: { cols: number; rows: number };
}

/** How a process ended. */
export interface ExecResult {
  exitCode: number;
  signal: number;
  timedOut: boolean;
}

/** A running guest process. Unread output stalls it once its credit window fills (backpressure). */
export interface ExecProcess {
  pid: Promise<number>;
  stdout: Readable;
  stderr: Readable;
  /** Writes stdin (waits for the agent's credit). */
  write(data: Buffer | string): Promise<void>;
  closeStdin(): void;
  signal(signal: number): void;
  resize(cols: number, rows: number): void;
  cancel(): void;
  result: Promise<ExecResult>;
}

/** A file or directory inside the guest. */
export interface GuestStat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
}

export interface GuestDirEntry extends GuestStat {
  name: string;
}

/**
 * The host side of the guest protocol over one byte stream (QEMU's virtio-serial chardev
 * socket): many concurrent streams, each with credit-based flow control.
 */
export class AgentClient {
  private readonly decoder = new FrameDecoder();
  private readonly streams = new Map<number, AgentStream>();
  private nextStreamId = 1;
  private helloWaiters: ((hello: AgentHello) => void)[] = [];
  private readonly helloFailures: ((error: Error) => void)[] = [];
  private closedError: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      // Agent bytes are untrusted (guest root controls PID 1): a violation drops this link, never the worker.
      try {
        for (const frame of this.decoder.push(chunk)) this.dispatch(frame);
      } catch (error) {
        this.fail(new ScaiError('GUEST_ERROR', `The guest agent broke the protocol: ${(error as Error).message}`));
        socket.destroy();
      }
    });
    socket.on('close', () => this.fail(new ScaiError('GUEST_UNREACHABLE', 'The link to the guest agent closed.')));
    socket.on('error', (error) => this.fail(new ScaiError('GUEST_UNREACHABLE', `The link to the guest agent failed: ${error.message}`)));
    socket.setNoDelay?.(true);
  }

  /**
   * Connects to the agent's socket and waits for its HELLO (sent on start, or in answer to
   * ours after a restore), checking the protocol version.
   */
  static async connect(socketPath: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ client: AgentClient; hello: AgentHello }> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    return AgentClient.attach(socket, options);
  }

  /** Speaks the protocol over an already connected socket (the agent's `--connect` mode dials us). */
  static async attach(socket: Socket, options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ client: AgentClient; hello: AgentHello }> {
    const client = new AgentClient(socket);
    try {
      const hello = await client.hello(options.timeoutMs, options.signal);
      if (hello.protoVersion !== PROTO_VERSION) {
        throw new ScaiError('GUEST_ERROR', `The guest agent speaks protocol ${hello.protoVersion}; this worker speaks ${PROTO_VERSION}.`);
      }
      return { client, hello };
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** Sends HELLO and waits for the agent's (or takes the one it sent on start). */
  hello(timeoutMs: number, signal?: AbortSignal): Promise<AgentHello> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new ScaiError('GUEST_UNREACHABLE', `The guest agent did not say hello within ${timeoutMs} ms.`)), timeoutMs);
      const onAbort = () => done(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter = (hello: AgentHello) => done(null, hello);
      const done = (error: Error | null, hello?: AgentHello) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.helloWaiters = this.helloWaiters.filter((w) => w !== waiter);
        if (error) reject(error);
        else resolve(hello!);
      };
      this.helloWaiters.push(waiter);
      this.helloFailures.push((error) => done(error));
      if (this.closedError) return done(this.closedError);
      this.send(encodeFrame(FrameType.HELLO, 0, encodeTlv([[Key.PROTO_VERSION, PROTO_VERSION]])));
    });
  }

  async ping(): Promise<{ uptimeMs: number; memTotalKib: number; memAvailableKib: number }> {
    const fields = await this.request([[Key.OP, 'ping']]);
    return { uptimeMs: fields.number(Key.UPTIME_MS) ?? 0, memTotalKib: fields.number(Key.MEM_TOTAL_KIB) ?? 0, memAvailableKib: fields.number(Key.MEM_AVAILABLE_KIB) ?? 0 };
  }

  exec(request: ExecRequest): ExecProcess {
    const stream = this.open([
      [Key.OP, 'exec'],
      [Key.ARGV, [...request.argv]],
      [Key.ENV, request.env ? Object.entries(request.env).map(([k, v]) => `${k}=${v}`) : undefined],
      [Key.CWD, request.cwd],
      [Key.USER, request.user],
      [Key.UID, request.uid],
      [Key.GID, request.gid],
      [Key.TIMEOUT_MS, request.timeoutMs],
      [Key.STDIN, request.stdin ? 1 : 0],
      [Key.COLS, request.pty?.cols],
      [Key.ROWS, request.pty?.rows],
    ]);
    const stdout = stream.channel(Channel.OUT);
    const stderr = stream.channel(Channel.ERR);
    const pid = stream.nextReply().then((f) => f.number(Key.PID) ?? 0);
    const result = stream.result.then((f) => ({ exitCode: f.signed(Key.EXIT_CODE) ?? -1, signal: f.number(Key.SIGNAL) ?? 0, timedOut: f.number(Key.TIMED_OUT) === 1 }));
    // Callers that only read output must not crash the process on a failure: these are
    // observed here, and reported to whoever awaits them.
    pid.catch(() => undefined);
    result.catch(() => undefined);
    return {
      pid,
      stdout,
      stderr,
      write: (data) => stream.write(typeof data === 'string' ? Buffer.from(data) : data),
      closeStdin: () => stream.endInput(),
      signal: (signal) => stream.control(encodeTlv([[Key.SIGNAL, signal]])),
      resize: (cols, rows) => stream.control(encodeTlv([[Key.COLS, cols], [Key.ROWS, rows]])),
      cancel: () => stream.control(encodeTlv([[Key.CANCEL, 1]])),
      result,
    };
  }

  /** Streams a guest file out; the Readable is flow-controlled end to end. */
  async readFile(path: string): Promise<{ size: number; mode: number; content: Readable; done: Promise<void> }> {
    const stream = this.open([[Key.OP, 'read'], [Key.PATH, path]]);
    const content = stream.channel(Channel.OUT);
    const reply = await Promise.race([stream.nextReply(), stream.result.then(() => { throw new Error('read ended without a reply'); })]);
    const done = stream.result.then(() => undefined);
    done.catch(() => undefined);
    return { size: reply.number(Key.SIZE) ?? 0, mode: reply.number(Key.MODE) ?? 0, content, done };
  }

  /** Streams content into a guest file, atomically replaced on success; its owner is `user` as exec resolves it, or `uid`/`gid`. */
  async writeFile(path: string, content: Readable | Buffer, options: { mode?: number; user?: string; uid?: number; gid?: number } = {}): Promise<{ size: number }> {
    const stream = this.open([[Key.OP, 'write'], [Key.PATH, path], [Key.MODE, options.mode], [Key.USER, options.user], [Key.UID, options.uid], [Key.GID, options.gid]]);
    const upload = (async () => {
      if (Buffer.isBuffer(content)) await stream.write(content);
      else for await (const chunk of content) await stream.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      stream.endInput();
    })();
    try {
      await upload;
    } catch (error) {
      // The agent failed first (ENOSPC, say): its error wins. Otherwise our source failed:
      // cancel, so the agent drops the partial file instead of waiting for more.
      stream.control(encodeTlv([[Key.CANCEL, 1]]));
      await stream.result.catch(() => undefined);
      throw await stream.result.then(() => error, (agentError: unknown) => (isCancelled(agentError) ? error : agentError));
    }
    return { size: (await stream.result).number(Key.SIZE) ?? 0 };
  }

  async stat(path: string): Promise<GuestStat> {
    return toStat(await this.request([[Key.OP, 'stat'], [Key.PATH, path]]));
  }

  async list(path: string): Promise<{ entries: GuestDirEntry[]; truncated: boolean }> {
    const fields = await this.request([[Key.OP, 'list'], [Key.PATH, path]]);
    const entries = fields.all(Key.ENTRY).map((raw) => {
      const entry = TlvFields.decode(raw);
      return { name: entry.string(Key.NAME) ?? '', ...toStat(entry) };
    });
    return { entries, truncated: fields.number(Key.TRUNCATED) === 1 };
  }

  async mkdir(path: string, options: { mode?: number; parents?: boolean } = {}): Promise<void> {
    await this.request([[Key.OP, 'mkdir'], [Key.PATH, path], [Key.MODE, options.mode], [Key.RECURSIVE, options.parents ? 1 : 0]]);
  }

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.request([[Key.OP, 'remove'], [Key.PATH, path], [Key.RECURSIVE, options.recursive ? 1 : 0]]);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.request([[Key.OP, 'rename'], [Key.PATH, from], [Key.PATH2, to]]);
  }

  /** Seals a template-to-be: its clones refuse exec and file operations until their own `setIdentity`. */
  async seal(): Promise<void> {
    await this.request([[Key.OP, 'seal']]);
  }

  /** Grows the root ext4 online to the size of its (grown) disk; resolves with the new size in bytes. */
  async growRootFs(): Promise<number> {
    return (await this.request([[Key.OP, 'growfs']])).number(Key.SIZE) ?? 0;
  }

  /**
   * Gives a (restored) guest its own identity: hostname, machine id, fresh entropy, the time,
   * and for a networked VM its NIC's settings (`MAC ADDRESS/PREFIX GATEWAY RESOLVER`) and its
   * further NICs' names and MACs (`DEV NAME MAC …`).
   */
  async setIdentity(identity: { hostname?: string; machineId?: string; entropy?: Buffer; timeMs?: number; net?: string | undefined; nics?: string | undefined }): Promise<void> {
    await this.request([
      [Key.OP, 'identity'], [Key.HOSTNAME, identity.hostname], [Key.MACHINE_ID, identity.machineId],
      [Key.ENTROPY, identity.entropy], [Key.TIME_MS, identity.timeMs], [Key.NET, identity.net], [Key.NICS, identity.nics],
    ]);
  }

  /** Asks the guest to shut down cleanly; resolves when it acknowledged (the VM exits right after). */
  async shutdown(): Promise<void> {
    await this.request([[Key.OP, 'shutdown']]);
  }

  close(): void {
    this.socket.destroy();
  }

  private async request(fields: ReadonlyArray<readonly [number, TlvValue | readonly TlvValue[] | undefined]>): Promise<TlvFields> {
    return this.open(fields).result;
  }

  private open(fields: ReadonlyArray<readonly [number, TlvValue | readonly TlvValue[] | undefined]>): AgentStream {
    const id = this.allocateStreamId();
    const stream = new AgentStream(id, { send: (frame) => this.send(frame), release: (sid) => this.streams.delete(sid) });
    if (this.closedError) {
      stream.finish(this.closedError, null);
      return stream;
    }
    this.streams.set(id, stream);
    this.send(encodeFrame(FrameType.OPEN, id, encodeTlv(fields)));
    return stream;
  }

  private allocateStreamId(): number {
    for (;;) {
      const id = this.nextStreamId;
      this.nextStreamId = id >= 0x7fffffff ? 1 : id + 1;
      if (!this.streams.has(id)) return id;
    }
  }

  private send(frame: Buffer): void {
    if (!this.closedError) this.socket.write(frame);
  }

  private dispatch(frame: Frame): void {
    if (frame.type === FrameType.HELLO) {
      const fields = safeDecode(frame.payload);
      const hello = { protoVersion: fields?.number(Key.PROTO_VERSION) ?? 0, agentVersion: fields?.string(Key.AGENT_VERSION) ?? '?', uptimeMs: fields?.number(Key.UPTIME_MS) ?? 0 };
      for (const waiter of this.helloWaiters.slice()) waiter(hello);
      return;
    }
    const stream = this.streams.get(frame.stream);
    if (!stream) return;
    stream.receive(frame.type, frame.channel, frame.payload, () => safeDecode(frame.payload) ?? TlvFields.decode(Buffer.alloc(0)));
  }

  private fail(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const reject of this.helloFailures.splice(0)) reject(error);
    for (const stream of [...this.streams.values()]) stream.finish(error, null);
  }
}

function isCancelled(error: unknown): boolean {
  return error instanceof AgentError && error.errno === 125;
}

function safeDecode(payload: Buffer): TlvFields | undefined {
  try {
    return TlvFields.decode(payload);
  } catch {
    return undefined;
  }
}

function toStat(fields: TlvFields): GuestStat {
  const type = fields.string(Key.TYPE);
  return {
    type: type === 'file' || type === 'dir' || type === 'symlink' ? type : 'other',
    size: fields.number(Key.SIZE) ?? 0,
    mode: fields.number(Key.MODE) ?? 0,
    mtimeMs: fields.number(Key.MTIME_MS) ?? 0,
  };
}
