import type { ExecResult, ProcessInfo } from '@scaibunker/contracts';
import type { BodyBytes, HttpTransport } from './http-transport.js';

/** How a process ended: its exit code, or the signal that killed it, and whether its timeout did. */
export type ProcessExit = Pick<ExecResult, 'exit_code' | 'signal' | 'timed_out'>;

/**
 * One event of a process's output stream: `started` first, then `stdout` and `stderr` text as
 * it comes, `exit` last; a late reader of a background process may first get `dropped` (bytes
 * of early output no longer kept).
 */
export type ProcessEvent =
  | { started: { pid: number } }
  | { stdout: string }
  | { stderr: string }
  | { dropped: number }
  | { exit: ProcessExit };

/** Options of a process output read. */
export interface OutputOptions {
  /** Keep streaming until the process exits (otherwise only what is kept so far). */
  follow?: boolean;
  signal?: AbortSignal;
}

const enc = encodeURIComponent;
const processesOf = (id: string) => `/v1/modules/scaibunker/bunkers/${enc(id)}/processes`;

/**
 * Processes started through exec: list them, read a background process's output by pid, signal
 * them and write their stdin.
 * @example
 * const { pid } = await client.bunkers.startBackground(id, { command: 'python3 -m http.server' });
 * for await (const event of client.processes.output(id, pid, { follow: true })) if ('stdout' in event) process.stdout.write(event.stdout);
 */
export class ProcessesApi {
  constructor(private readonly http: HttpTransport) {}

  /** Running processes and the last ones that ended. @example (await client.processes.list(id)).filter((p) => !p.exit) */
  list(id: string): Promise<ProcessInfo[]> {
    return this.http.data('GET', processesOf(id));
  }

  /** A process's output as events: what is kept, then (with `follow`) the rest until its exit. @example for await (const e of client.processes.output(id, pid)) console.log(e) */
  output(id: string, pid: number, options: OutputOptions = {}): AsyncGenerator<ProcessEvent> {
    return this.http.ndjson('GET', `${processesOf(id)}/${pid}/output`, {
      query: { follow: options.follow ? true : undefined }, ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** Sends a signal (by name, e.g. `SIGTERM`, or number) to the process's group. @example await client.processes.signal(id, pid, 'SIGINT') */
  signal(id: string, pid: number, signal: string | number): Promise<{ pid: number; signal: number }> {
    return this.http.data('POST', `${processesOf(id)}/${pid}/signal`, { body: { signal } });
  }

  /**
   * Streams bytes into a process's stdin (background, or started with `stdin_open`) as fast as
   * it reads them; closes its stdin at the end unless `eof: false`. Answers with the bytes taken.
   * @example await client.processes.streamStdin(id, pid, createReadStream('input.tar'))
   */
  streamStdin(id: string, pid: number, data: BodyBytes, options: { eof?: boolean; signal?: AbortSignal } = {}): Promise<{ pid: number; bytes: number }> {
    return this.http.data('PUT', `${processesOf(id)}/${pid}/stdin`, { bytes: data, query: { eof: options.eof === false ? false : undefined }, ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** Writes to a process's stdin (background, or started with `stdin_open`); `eof` closes it after. @example await client.processes.stdin(id, pid, { data: 'quit\n', eof: true }) */
  stdin(id: string, pid: number, input: { data?: string; eof?: boolean }): Promise<{ pid: number }> {
    return this.http.data('POST', `${processesOf(id)}/${pid}/stdin`, { body: input });
  }
}
