import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScaiError } from '@scaibunker/contracts';
import type { InterceptorCommand, InterceptorReport } from './dns-interceptor-process.js';

/** How long the resolver may take to listen, and how long to wait between restarts (doubling up to the max). */
const START_TIMEOUT_MS = 10_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

export interface ResolverProcessOptions {
  /** The namespace it runs in (undefined: the worker's own). */
  netns: string | undefined;
  port: number;
  upstream: { address: string; port: number };
  onReport(report: InterceptorReport): void;
  /** After every (re)start: the commands it must be told again (every bunker's policy). */
  onStarted(): void;
  log(message: string): void;
}

/**
 * The worker's resolver (dns-interceptor-process.ts) as a supervised child process in the
 * uplink namespace: started, told each bunker's policy over its IPC channel, restarted with
 * backoff whenever it ends (guests would lose DNS), ended with `close()` — or by itself when
 * the worker's channel closes, so a killed worker leaves none behind.
 */
export class ResolverProcess {
  private child: ChildProcess | undefined;
  private closed = false;
  private restartMs = RESTART_MIN_MS;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ResolverProcessOptions) {}

  /** Starts it; resolves once it listens (the first start's failure is the caller's to report). */
  async start(): Promise<void> {
    const config = JSON.stringify({ host: '0.0.0.0', port: this.options.port, upstream: this.options.upstream });
    const command = [process.execPath, resolverScript(), config];
    const child = this.options.netns
      ? spawn('ip', ['netns', 'exec', this.options.netns, ...command], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('message', (report: InterceptorReport) => this.options.onReport(report));
    child.on('error', () => undefined);
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ScaiError('INTERNAL', `The worker’s resolver did not listen within ${START_TIMEOUT_MS / 1000} s.`)), START_TIMEOUT_MS);
      child.once('exit', (code) => { clearTimeout(timer); reject(new ScaiError('INTERNAL', `The worker’s resolver exited with ${code} at start.`)); });
      child.on('message', (report: InterceptorReport) => { if (report.op === 'listening') { clearTimeout(timer); resolve(); } });
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.closed) return;
      this.child = undefined;
      this.options.log(`the worker's resolver ended (${signal ?? code}); restarting in ${this.restartMs} ms`);
      this.scheduleRestart();
    });
    try {
      await listening;
    } catch (error) {
      child.kill('SIGKILL'); // one that never listened must not hold the port
      throw error;
    }
    this.restartMs = RESTART_MIN_MS;
    this.options.onStarted();
  }

  private scheduleRestart(): void {
    this.restartTimer = setTimeout(() => {
      this.start().catch((error: unknown) => {
        if (this.closed) return;
        this.options.log(`the worker's resolver did not restart: ${(error as Error).message}`);
        this.restartMs = Math.min(RESTART_MAX_MS, this.restartMs * 2);
        this.scheduleRestart();
      });
    }, this.restartMs);
    this.restartTimer.unref();
  }

  /** Tells it something; a resolver being restarted misses nothing (it is told every policy when back). */
  send(command: InterceptorCommand): void {
    if (this.child?.connected) this.child.send(command, () => undefined);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.child?.kill('SIGTERM');
  }
}

/**
 * The resolver's entry point: beside this module in a build; the test runner loads the
 * TypeScript sources, whose build (`npm test` runs `tsc -b` first) is under dist/.
 */
function resolverScript(): string {
  const here = fileURLToPath(new URL('./dns-interceptor-process.js', import.meta.url));
  return existsSync(here) ? here : here.replace('/src/network/', '/dist/network/');
}
