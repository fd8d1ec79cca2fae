import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { ExecProcess } from '../agent/agent-client.js';
import { signalName, type ProcessExit } from './guest-process.js';

/** Terminal output a session keeps for a reattaching client. */
const REPLAY_BYTES = 64 * 1024;
/** A detached shell nobody comes back to is ended after this long. */
const DETACHED_TTL_MS = 15 * 60_000;

/**
 * An interactive shell on a guest PTY that outlives the socket watching it: the client may
 * drop and reattach (with the session id) and gets the recent output replayed. One client at a
 * time; a new attach replaces the old. While attached, a slow client pauses the shell's output
 * (backpressure to the guest); while detached, output is kept (the last 64 KiB) and the shell
 * runs on, until it exits or stays detached for 15 minutes.
 */
export class ShellSession {
  readonly id = randomBytes(12).toString('hex');
  private recent: Buffer[] = [];
  private recentBytes = 0;
  private client: Duplex | undefined;
  private exitInfo: ProcessExit | null = null;
  private reaper: NodeJS.Timeout | undefined;
  readonly done: Promise<ProcessExit>;

  constructor(private readonly proc: ExecProcess, private readonly onGone: () => void) {
    proc.stdout.on('data', (chunk: Buffer) => this.output(chunk));
    // A PTY merges stderr into stdout; the channel still has to be drained.
    proc.stderr.resume();
    // The end comes after the last output: the agent may report the exit before it is read.
    const drained = new Promise<void>((resolve) => {
      proc.stdout.once('end', resolve);
      proc.stdout.once('close', resolve);
      proc.stdout.once('error', () => resolve());
    });
    this.done = Promise.all([proc.result, drained]).then(
      ([r]) => ({ exit_code: r.signal ? null : r.exitCode, signal: r.signal ? signalName(r.signal) : null, timed_out: r.timedOut }),
      () => ({ exit_code: null, signal: null, timed_out: false }),
    ).then((exit) => {
      this.exitInfo = exit;
      clearTimeout(this.reaper);
      this.client?.end();
      this.onGone();
      return exit;
    });
    this.startReaper();
  }

  get exit(): ProcessExit | null {
    return this.exitInfo;
  }

  /** Connects a client: replays the recent output, then streams both ways. */
  attach(client: Duplex): void {
    const previous = this.client;
    this.client = client;
    previous?.end();
    clearTimeout(this.reaper);
    for (const chunk of this.recent) client.write(chunk);
    if (this.exitInfo) {
      client.end();
      return;
    }
    client.on('data', (keys: Buffer) => {
      // Keystrokes wait for the agent's credit: the link's own backpressure holds the client.
      client.pause();
      this.proc.write(keys).then(() => client.resume(), () => client.destroy());
    });
    client.on('drain', () => { if (this.client === client) this.proc.stdout.resume(); });
    client.once('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.proc.stdout.resume(); // detached: keep draining into the replay buffer
      if (!this.exitInfo) this.startReaper();
    });
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
  }

  kill(): void {
    this.proc.signal(9);
  }

  private output(chunk: Buffer): void {
    this.recent.push(chunk);
    this.recentBytes += chunk.length;
    while (this.recentBytes - (this.recent[0]?.length ?? 0) >= REPLAY_BYTES) this.recentBytes -= this.recent.shift()!.length;
    if (this.client && !this.client.write(chunk)) this.proc.stdout.pause();
  }

  private startReaper(): void {
    this.reaper = setTimeout(() => this.kill(), DETACHED_TTL_MS);
    this.reaper.unref();
  }
}
