import { ScaiError } from '@scaibunker/contracts';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import type { ExecProcess } from '../agent/agent-client.js';

/** One line of a process's NDJSON output stream (spec §4: `{stdout|stderr|exit}` events). */
export type ProcessEvent =
  | { started: { pid: number } }
  | { stdout: string }
  | { stderr: string }
  | { exit: ProcessExit }
  | { dropped: number };

/** How a guest process ended. */
export interface ProcessExit {
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
}

/** What the API lists of a process. */
export interface ProcessInfo {
  pid: number;
  argv: string[];
  background: boolean;
  started_at: string;
  exit: ProcessExit | null;
}

/** Output a background process keeps for late readers; beyond it, the oldest is dropped (and counted). */
const RETAINED_BYTES = 1024 * 1024;

const SIGNAL_NAMES: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `SIG${signal}`;
}

/**
 * A guest process the API started, with its output as events. An attached process (a
 * streaming exec) forwards its output to one writer with backpressure down to the guest, and
 * ends when that writer goes away. A background process is drained continuously into a
 * bounded buffer, so it never stalls on a full pipe, and any number of readers can replay
 * what is kept and follow the rest, also after the request that started it has ended.
 */
export class GuestProcess {
  readonly startedAt = new Date().toISOString();
  private readonly kept: { event: ProcessEvent; bytes: number }[] = [];
  private keptBytes = 0;
  private droppedBytes = 0;
  private readonly followers = new Set<Writable>();
  private exitInfo: ProcessExit | null = null;
  readonly done: Promise<ProcessExit>;

  constructor(
    readonly pid: number,
    readonly argv: string[],
    readonly background: boolean,
    private readonly proc: ExecProcess,
  ) {
    for (const name of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      proc[name].on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text) this.emit({ [name]: text } as ProcessEvent, chunk.length);
      });
      proc[name].once('end', () => {
        const rest = decoder.end();
        if (rest) this.emit({ [name]: rest } as ProcessEvent, rest.length);
      });
    }
    // The exit comes last: after both outputs are drained (the agent may report the exit
    // before the last output frames have been read here).
    const drained = (stream: NodeJS.ReadableStream) => new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
    this.done = Promise.all([proc.result, drained(proc.stdout), drained(proc.stderr)]).then(
      ([r]) => ({ exit_code: r.signal ? null : r.exitCode, signal: r.signal ? signalName(r.signal) : null, timed_out: r.timedOut }),
      () => ({ exit_code: null, signal: null, timed_out: false }),
    ).then((exit) => {
      this.exitInfo = exit;
      this.emit({ exit }, 0);
      for (const follower of this.followers) follower.end();
      this.followers.clear();
      return exit;
    });
  }

  get info(): ProcessInfo {
    return { pid: this.pid, argv: this.argv, background: this.background, started_at: this.startedAt, exit: this.exitInfo };
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  /**
   * Streams this process's events as NDJSON into `out`: what is kept first (when `replay`),
   * then live ones until the exit (when `follow`). For an attached process, a full `out`
   * pauses the guest's output (backpressure); closing `out` early kills the process.
   */
  attach(out: Writable, options: { replay: boolean; follow: boolean }): void {
    const write = (event: ProcessEvent) => out.write(`${JSON.stringify(event)}\n`);
    write({ started: { pid: this.pid } });
    if (options.replay) {
      if (this.droppedBytes > 0) write({ dropped: this.droppedBytes });
      for (const { event } of this.kept) write(event);
    }
    if (!options.follow || this.exited) {
      out.end();
      return;
    }
    this.followers.add(out);
    out.once('close', () => {
      this.followers.delete(out);
      if (!this.background && !this.exited) this.proc.signal(9);
    });
    if (!this.background) {
      // Backpressure: the guest's pipes fill while the reader is slow; nothing piles up here.
      out.on('drain', () => { this.proc.stdout.resume(); this.proc.stderr.resume(); });
    }
  }

  write(data: string | Buffer): Promise<void> {
    return this.proc.write(data);
  }

  /** Copies `source` into stdin as the guest takes it (credit flow control); closes stdin after it when `eof`. */
  async pipeStdin(source: AsyncIterable<Buffer | string>, eof: boolean): Promise<number> {
    let bytes = 0;
    try {
      for await (const chunk of source) {
        await this.proc.write(chunk);
        bytes += chunk.length;
      }
    } catch (error) {
      // The guest's end closes when the process exits (a broken pipe, as a shell would see it).
      if (this.exited || (error as Error).message === 'stream closed') throw new ScaiError('CONFLICT', `The process exited before it read all of its stdin (${bytes} bytes taken).`);
      throw error;
    }
    if (eof) this.proc.closeStdin();
    return bytes;
  }

  closeStdin(): void {
    this.proc.closeStdin();
  }

  signal(signal: number): void {
    this.proc.signal(signal);
  }

  private emit(event: ProcessEvent, bytes: number): void {
    let full = false;
    for (const follower of this.followers) {
      if (!follower.write(`${JSON.stringify(event)}\n`)) full = true;
    }
    if (full && !this.background) {
      this.proc.stdout.pause();
      this.proc.stderr.pause();
    }
    if (!this.background && !('exit' in event)) return;
    this.kept.push({ event, bytes });
    this.keptBytes += bytes;
    while (this.keptBytes > RETAINED_BYTES && this.kept.length > 1) {
      const oldest = this.kept.shift()!;
      this.keptBytes -= oldest.bytes;
      this.droppedBytes += oldest.bytes;
    }
  }
}
