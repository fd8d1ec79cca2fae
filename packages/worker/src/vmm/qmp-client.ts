import { connect, type Socket } from 'node:net';
import { ScaiError } from '@scaibunker/contracts';

type QmpReply = { return?: unknown; error?: { class: string; desc: string }; event?: string; id?: number };

/** A minimal QMP client: one command at a time over QEMU's monitor socket (JSON lines). */
export class QmpClient {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly eventListeners: ((event: string) => void)[] = [];
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      for (const { reject } of this.pending.values()) reject(new ScaiError('INTERNAL', 'QEMU monitor closed.'));
      this.pending.clear();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Connects, reads the greeting, and negotiates capabilities. QEMU binds the socket before it
   * listens, so a refused connection is retried until the deadline.
   */
  static async connect(path: string, timeoutMs: number): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    let socket: Socket | undefined;
    while (!socket) {
      socket = await new Promise<Socket | undefined>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', (error: NodeJS.ErrnoException) => {
          if ((error.code === 'ECONNREFUSED' || error.code === 'ENOENT') && Date.now() < deadline) setTimeout(() => resolve(undefined), 2);
          else reject(error);
        });
      });
    }
    const client = new QmpClient(socket);
    await client.execute('qmp_capabilities');
    return client;
  }

  /** Runs a QMP command and returns its `return` value. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.closed) return Promise.reject(new ScaiError('INTERNAL', 'QEMU monitor closed (the VM has exited).'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  /** Calls back on every asynchronous event (e.g. `MIGRATION`, `SHUTDOWN`). */
  onEvent(listener: (event: string) => void): void {
    this.eventListeners.push(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (!line) continue;
      let message: QmpReply;
      try {
        message = JSON.parse(line) as QmpReply;
      } catch {
        // QEMU runs jailed but untrusted: a garbled monitor closes the monitor, not the worker.
        this.socket.destroy();
        return;
      }
      if (message.event) for (const listener of this.eventListeners) listener(message.event);
      if (message.id === undefined) continue;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new ScaiError('INTERNAL', `QEMU: ${message.error.class}: ${message.error.desc}`));
      else waiter?.resolve(message.return);
    }
  }
}
