import { ScaiError, type ErrorCode } from '@scaibunker/contracts';
import { decodeFrame } from './link-frame.js';
import { MAX_NAME_LENGTH, MAX_TEXT_BYTES, encodeMessage, fromWireError, parseMessage, toWireError, type LinkMessage, type WireError } from './link-message.js';
import type { LinkStream } from './link-stream.js';
import type { MessageChannel } from './message-channel.js';
import { StreamTable, type LinkRole } from './stream-table.js';

/** Settings of a link; both ends must use the same `windowBytes`. */
export interface LinkPeerOptions {
  role: LinkRole;
  /** Credit window of each stream direction: what a reader buffers at most (256 KiB). */
  windowBytes?: number;
  /** DATA waits while the transport holds more than this (4 MiB); control frames always go. */
  highWaterMarkBytes?: number;
  /** A transport holding more than this (64 MiB) means the peer stopped reading: the link closes. */
  maxBufferedBytes?: number;
  /** Default for `call`'s `timeoutMs` (30 s); `Infinity` waits for ever. */
  callTimeoutMs?: number;
  /** How long data for a stream nobody accepted is kept before the stream is reset (30 s). */
  acceptTimeoutMs?: number;
  /** Streams the peer may have opened that this side has not accepted yet (64). */
  maxUnacceptedStreams?: number;
  /** Calls from the peer running at once (1024); more are answered RATE_LIMITED. */
  maxConcurrentCalls?: number;
  /** The code calls and streams fail with when the link closes or a call times out. */
  unavailableCode?: ErrorCode;
  /** Failures that have no caller to go to: a handler's foreign error, a throwing listener, a violation. */
  onError?: (error: unknown, context: string) => void;
}

/** Per-call options. */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** What a handler learns besides the params. */
export interface CallContext {
  method: string;
  /** Aborted when the caller gives up (timeout, abort) or the link closes. */
  signal: AbortSignal;
  link: LinkPeer;
}

/** Answers one method; may return a promise. A ScaiError it throws reaches the caller with its code. */
export type LinkHandler<P> = (params: P, context: CallContext) => unknown;

/** The defaults of `LinkPeerOptions`. */
export const LINK_DEFAULTS = {
  windowBytes: 256 * 1024,
  highWaterMarkBytes: 4 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  callTimeoutMs: 30_000,
  acceptTimeoutMs: 30_000,
  maxUnacceptedStreams: 64,
  maxConcurrentCalls: 1024,
} as const;

interface PendingCall {
  settle(reply: { ok: true; r?: unknown } | { ok: false; e: WireError }): void;
  fail(error: Error): void;
}

/**
 * One end of a controller⇄worker link over a message channel: calls both ways, one-way events,
 * and flow-controlled byte streams. Both ends use this class; only `role` differs.
 */
export class LinkPeer {
  private readonly table: StreamTable;
  private readonly calls = new Map<number, PendingCall>();
  private readonly inbound = new Map<number, AbortController>();
  private readonly handlers = new Map<string, LinkHandler<unknown>>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly closeListeners: ((reason: ScaiError) => void)[] = [];
  private readonly settings: Required<Omit<LinkPeerOptions, 'onError'>>;
  private nextCallId = 1;
  private closedWith: ScaiError | null = null;

  constructor(
    private readonly channel: MessageChannel,
    private readonly options: LinkPeerOptions,
  ) {
    this.settings = { ...LINK_DEFAULTS, unavailableCode: 'SERVICE_UNAVAILABLE', ...withoutUndefined(options), role: options.role };
    const { windowBytes } = this.settings;
    // The window travels in u32 CREDIT frames, and a quarter of it must be a useful grant.
    if (!Number.isInteger(windowBytes) || windowBytes < 1024 || windowBytes > 0x7fff_ffff) {
      throw new ScaiError('INTERNAL', `windowBytes ${windowBytes} is outside 1 KiB to 2 GiB.`);
    }
    this.table = new StreamTable({ send: (frame) => this.send(frame), bufferedAmount: () => channel.bufferedAmount() }, this.settings);
    channel.onMessage((data) => this.receive(data));
    channel.onDrain(() => this.table.pump());
    channel.onClose((reason) => this.shutdown(`The link closed: ${reason.message}`));
  }

  /** Why the link closed, or null while it is open. */
  get closeReason(): ScaiError | null {
    return this.closedWith;
  }

  /** Counts for metrics and leak checks. */
  stats(): { streams: number; unacceptedStreams: number; pendingCalls: number; runningCalls: number } {
    return { ...this.table.stats(), pendingCalls: this.calls.size, runningCalls: this.inbound.size };
  }

  /** Calls a method the peer handles. The result is the peer's word: validate what you rely on. */
  call<T = unknown>(method: string, params: unknown, options: CallOptions = {}): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (method.length === 0 || method.length > MAX_NAME_LENGTH) return Promise.reject(new ScaiError('INTERNAL', `Bad link method name "${method.slice(0, 64)}".`));
    const id = this.nextCallId++;
    let text: string;
    try {
      text = encodeMessage({ t: 'call', id, m: method, p: params });
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options.timeoutMs ?? this.settings.callTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        this.calls.delete(id);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      // Nobody waits any more: tell the handler, so it can stop working for nothing.
      const giveUp = (error: unknown) => {
        finish();
        this.sendMessage({ t: 'cancel', id });
        reject(error);
      };
      const onAbort = () => giveUp(signal?.reason);
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => giveUp(new ScaiError(this.settings.unavailableCode, `The peer did not answer ${method} within ${timeoutMs} ms.`)), timeoutMs)
        : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      this.calls.set(id, {
        settle: (reply) => {
          finish();
          // The result is unknown on the wire; T is the caller's claim about it.
          if (reply.ok) resolve(reply.r as T);
          else reject(fromWireError(reply.e));
        },
        fail: (error) => {
          finish();
          reject(error);
        },
      });
      this.send(text);
    });
  }

  /** Registers the handler of a method; with `parse`, params are checked (and typed) first. */
  handle(method: string, handler: LinkHandler<unknown>): void;
  handle<P>(method: string, parse: (params: unknown) => P, handler: LinkHandler<P>): void;
  handle<P>(method: string, first: LinkHandler<unknown> | ((params: unknown) => P), second?: LinkHandler<P>): void {
    if (this.handlers.has(method)) throw new ScaiError('CONFLICT', `The link method ${method} already has a handler.`);
    const parse = first as (params: unknown) => P;
    this.handlers.set(method, second === undefined ? first : (params, context) => second(parse(params), context));
  }

  /** Sends a one-way event; dropped if the link is closed. */
  notify(event: string, payload: unknown): void {
    if (event.length === 0 || event.length > MAX_NAME_LENGTH) throw new ScaiError('INTERNAL', `Bad link event name "${event.slice(0, 64)}".`);
    if (!this.closedWith) this.send(encodeMessage({ t: 'event', n: event, p: payload }));
  }

  /** Listens to the peer's events of one name; returns the function that stops listening. */
  on(event: string, listener: (payload: unknown) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Opens a stream; announce its `id` to the peer (in a call's params or result) to use it. */
  openStream(): LinkStream {
    return this.table.open();
  }

  /** Takes up a stream the peer opened and announced. Attach an 'error' listener at once. */
  acceptStream(id: number): LinkStream {
    return this.table.accept(id);
  }

  /** Calls `listener` once when the link closes (at once if it has). */
  onClose(listener: (reason: ScaiError) => void): void {
    const reason = this.closedWith;
    if (reason) queueMicrotask(() => listener(reason));
    else this.closeListeners.push(listener);
  }

  /** Closes the link: pending calls reject, open streams fail, the transport closes. */
  close(reason = 'closed by this side'): void {
    this.shutdown(`The link was closed: ${reason}`, 1000);
  }

  private receive(data: string | Uint8Array): void {
    if (this.closedWith) return;
    try {
      if (typeof data !== 'string') this.table.route(decodeFrame(data));
      else if (Buffer.byteLength(data, 'utf8') > MAX_TEXT_BYTES) this.shutdown(`The peer sent a text message over ${MAX_TEXT_BYTES} bytes.`, 1009);
      else this.dispatch(parseMessage(data));
    } catch (error) {
      // A hostile or buggy peer loses its link; it never takes the process down.
      this.options.onError?.(error, 'link protocol');
      if (error instanceof ScaiError) this.shutdown(error.message, 1008);
      else this.shutdown('The link failed while handling a message.', 1011);
    }
  }

  private dispatch(message: LinkMessage): void {
    switch (message.t) {
      case 'call': return this.serve(message.id, message.m, message.p);
      // A reply nobody waits for belongs to a call that timed out or was aborted.
      case 'reply': return this.calls.get(message.id)?.settle(message);
      case 'cancel': return this.inbound.get(message.id)?.abort(new ScaiError('SERVICE_UNAVAILABLE', 'The caller gave up.'));
      case 'event':
        for (const listener of this.listeners.get(message.n) ?? []) {
          try {
            listener(message.p);
          } catch (error) {
            this.options.onError?.(error, `listener of ${message.n}`);
          }
        }
    }
  }

  private serve(id: number, method: string, params: unknown): void {
    if (this.inbound.has(id)) throw new ScaiError('SERVICE_UNAVAILABLE', `The peer broke the link protocol: call id ${id} reused while running.`);
    const handler = this.handlers.get(method);
    if (!handler) return this.replyError(id, method, new ScaiError('NOT_FOUND', `No link method ${method}.`));
    if (this.inbound.size >= this.settings.maxConcurrentCalls) return this.replyError(id, method, new ScaiError('RATE_LIMITED', 'Too many link calls at once.'));
    const controller = new AbortController();
    this.inbound.set(id, controller);
    Promise.resolve()
      .then(() => handler(params, { method, signal: controller.signal, link: this }))
      .then((result) => this.replyResult(id, method, result), (error: unknown) => this.replyError(id, method, error))
      .catch((error: unknown) => this.options.onError?.(error, `reply to ${method}`));
  }

  private replyResult(id: number, method: string, result: unknown): void {
    this.inbound.delete(id);
    let text: string;
    try {
      text = encodeMessage({ t: 'reply', id, ok: true, r: result });
    } catch (error) {
      return this.replyError(id, method, error);
    }
    if (!this.closedWith) this.send(text);
  }

  private replyError(id: number, method: string, error: unknown): void {
    this.inbound.delete(id);
    if (!(error instanceof ScaiError)) this.options.onError?.(error, `handler of ${method}`);
    try {
      this.sendMessage({ t: 'reply', id, ok: false, e: toWireError(error) });
    } catch {
      this.sendMessage({ t: 'reply', id, ok: false, e: toWireError(null) });
    }
  }

  private sendMessage(message: LinkMessage): void {
    if (!this.closedWith) this.send(encodeMessage(message));
  }

  private send(data: string | Uint8Array): void {
    if (this.closedWith) return;
    this.channel.send(data);
    // Control frames skip the high-water mark; a peer that lets this much pile up is not reading.
    if (this.channel.bufferedAmount() > this.settings.maxBufferedBytes) {
      this.shutdown(`The peer stopped reading: over ${this.settings.maxBufferedBytes} bytes are queued.`, 1008);
    }
  }

  private shutdown(message: string, closeCode?: number): void {
    if (this.closedWith) return;
    const error = new ScaiError(this.settings.unavailableCode, message);
    this.closedWith = error;
    for (const call of [...this.calls.values()]) call.fail(error);
    for (const controller of this.inbound.values()) controller.abort(error);
    this.inbound.clear();
    this.table.fail(error);
    if (closeCode !== undefined) this.channel.close(closeCode, message);
    for (const listener of this.closeListeners.splice(0)) {
      try {
        listener(error);
      } catch (listenerError) {
        this.options.onError?.(listenerError, 'close listener');
      }
    }
  }
}

/** Options left undefined must not override the defaults they sit on. */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
