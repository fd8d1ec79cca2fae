import { WebSocket, type RawData } from 'ws';
import { isErrorCode, ScaiError } from '@scaibunker/contracts';
import { errorOf } from './http-transport.js';
import type { ProcessExit } from './processes-api.js';

/** Options of a shell: the terminal size, the session to reattach to, the user to run as. */
export interface ShellOptions {
  cols?: number;
  rows?: number;
  /** Reattach to a shell whose socket dropped; its recent output is replayed first. */
  session?: string;
  user?: string;
}

/** How a shell's socket closed. */
export interface ShellClosed {
  /** How the shell ended; null when only the socket closed and the shell lives on (reattach with its session id). */
  exit: ProcessExit | null;
  /** The WebSocket close code: 1000 after the shell's exit, 1006 when the connection dropped. */
  code: number;
}

type Control = { type?: unknown; id?: unknown; code?: unknown; message?: unknown } & Partial<ProcessExit>;

/**
 * An interactive shell on a PTY inside a bunker, over one WebSocket: terminal bytes both ways,
 * resizes up. Bytes written before the socket opens are sent once it does.
 * @example
 * const shell = client.shell(id, { cols: 120, rows: 40 });
 * shell.onData((bytes) => process.stdout.write(bytes));
 * shell.write('ls -l; exit 3\n');
 * const { exit } = await shell.closed; // { exit_code: 3, signal: null, timed_out: false }
 */
export class BunkerShell {
  /** The session id, to reattach with after a dropped socket. Rejects as `closed` does when the shell never opened. */
  readonly session: Promise<string>;
  /**
   * Settles when the socket closes. Rejects with a ScaiError when the server refused (before the
   * upgrade, or with an error message), or with the connection's Error when it never opened.
   */
  readonly closed: Promise<ShellClosed>;
  private readonly socket: WebSocket;
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  private readonly queued: { data: Buffer | string; binary: boolean }[] = [];

  constructor(url: URL, headers: Record<string, string>) {
    this.socket = new WebSocket(url, { headers });
    let sessionId: string | undefined;
    let exit: ProcessExit | null = null;
    let refusal: ScaiError | undefined;
    let connectionError: Error | undefined;
    let settleSession: { resolve: (id: string) => void; reject: (error: Error) => void } | undefined;
    this.session = new Promise((resolve, reject) => { settleSession = { resolve, reject }; });
    this.session.catch(() => undefined);

    this.socket.on('unexpected-response', (_request, response) => {
      // The checks run before the upgrade: a refusal is a plain answer with an error envelope.
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        void errorOf({ status: response.statusCode ?? 0, text: async () => Buffer.concat(chunks).toString('utf8') }).then((error) => {
          refusal = error;
          this.socket.terminate();
        });
      });
    });
    this.socket.on('error', (error) => { connectionError ??= error; });
    this.socket.on('open', () => {
      for (const { data, binary } of this.queued.splice(0)) this.socket.send(data, { binary });
    });
    this.socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) {
        for (const listener of this.listeners) listener(bytes);
        return;
      }
      let control: Control;
      try {
        control = JSON.parse(bytes.toString('utf8')) as Control;
      } catch {
        return;
      }
      if (control.type === 'session' && typeof control.id === 'string') {
        sessionId = control.id;
        settleSession?.resolve(control.id);
      } else if (control.type === 'exit') {
        exit = { exit_code: control.exit_code ?? null, signal: control.signal ?? null, timed_out: control.timed_out ?? false };
      } else if (control.type === 'error') {
        const code = typeof control.code === 'string' && isErrorCode(control.code) ? control.code : 'INTERNAL';
        refusal = new ScaiError(code, typeof control.message === 'string' ? control.message : 'The shell failed.');
      }
    });
    this.closed = new Promise((resolve, reject) => {
      this.socket.on('close', (code: number) => {
        const failure = refusal ?? (sessionId ? undefined : connectionError ?? new Error(`The shell's socket closed (${code}) before the shell opened.`));
        if (failure) {
          settleSession?.reject(failure);
          reject(failure);
        } else {
          resolve({ exit, code });
        }
      });
    });
  }

  /** Calls `listener` with each chunk of terminal output; returns the function that stops it. */
  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends keystrokes (or any input) to the terminal; false when the socket is already closed. */
  write(bytes: Uint8Array | string): boolean {
    return this.send(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes), true);
  }

  /** Tells the PTY its new size. */
  resize(cols: number, rows: number): void {
    this.send(JSON.stringify({ type: 'resize', cols, rows }), false);
  }

  /** Closes the socket; the shell lives on and can be reattached with its session id. */
  close(): void {
    this.socket.close(1000);
  }

  /** Bytes sent but not yet written to the network, to pace a fast producer. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  private send(data: Buffer | string, binary: boolean): boolean {
    if (this.socket.readyState === WebSocket.CONNECTING) this.queued.push({ data, binary });
    else if (this.socket.readyState === WebSocket.OPEN) this.socket.send(data, { binary });
    else return false;
    return true;
  }
}
