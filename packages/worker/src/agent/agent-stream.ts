import { Readable, Writable } from 'node:stream';
import { ScaiError } from '@scaibunker/contracts';
import { Channel, FrameType, INITIAL_CREDIT, MAX_DATA_CHUNK, encodeFrame } from './frame.js';
import { AgentError } from './agent-error.js';
import type { TlvFields } from './tlv.js';

/** No operation sends more than one REPLY; a few are tolerated, a flood is a violation. */
const MAX_PENDING_REPLIES = 8;

/** The agent broke the protocol (a compromised guest, or a bug): the link is dropped. */
function protocolViolation(what: string): ScaiError {
  return new ScaiError('GUEST_ERROR', `The guest agent sent ${what}.`);
}

/** What a stream needs from the link it runs on. */
export interface StreamLink {
  send(frame: Buffer): void;
  release(stream: number): void;
}

/**
 * One stream of the protocol: its final result, its replies, incoming channels as Readables
 * that grant credit only as they are consumed, and an outgoing channel that waits for credit.
 */
export class AgentStream {
  readonly result: Promise<TlvFields>;
  private settle!: { resolve: (f: TlvFields) => void; reject: (e: Error) => void };
  private readonly replyWaiters: ((fields: TlvFields) => void)[] = [];
  private readonly replies: TlvFields[] = [];
  private readonly incoming = new Map<number, IncomingChannel>();
  private sendCredit = INITIAL_CREDIT;
  private creditWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly id: number,
    private readonly link: StreamLink,
  ) {
    this.result = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    // The result is often awaited late (after the output is read); never an unhandled rejection.
    this.result.catch(() => undefined);
  }

  /** The incoming channel as a Readable (created on first use). */
  channel(channel: number): Readable {
    return this.incomingChannel(channel).readable;
  }

  private incomingChannel(channel: number): IncomingChannel {
    let entry = this.incoming.get(channel);
    if (!entry) {
      entry = new IncomingChannel(this.id, channel, this.link);
      this.incoming.set(channel, entry);
    }
    return entry;
  }

  /** The next REPLY frame. */
  nextReply(): Promise<TlvFields> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.replyWaiters.push(resolve);
      this.result.then(() => reject(new Error('stream ended without a reply')), reject);
    });
  }

  /** Sends bytes on the upload channel, waiting for credit; resolves once all are sent. */
  async write(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      if (this.closed) throw new Error('stream closed');
      if (this.sendCredit === 0) {
        await new Promise<void>((resolve) => this.creditWaiters.push(resolve));
        continue;
      }
      const size = Math.min(MAX_DATA_CHUNK, this.sendCredit, data.length - offset);
      this.sendCredit -= size;
      this.link.send(encodeFrame(FrameType.DATA, this.id, data.subarray(offset, offset + size), Channel.IN));
      offset += size;
    }
  }

  /** A Writable over the upload channel, with backpressure from the agent's credit. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => { this.write(chunk).then(() => callback(), callback); },
      final: (callback) => { this.endInput(); callback(); },
    });
  }

  endInput(): void {
    if (!this.closed) this.link.send(encodeFrame(FrameType.EOF, this.id, undefined, Channel.IN));
  }

  control(payload: Buffer): void {
    if (!this.closed) this.link.send(encodeFrame(FrameType.CONTROL, this.id, payload));
  }

  /** Dispatches one frame addressed to this stream. */
  receive(type: number, channel: number, payload: Buffer, fields: () => TlvFields): void {
    switch (type) {
      case FrameType.DATA: this.incomingChannel(channel).push(payload); break;
      case FrameType.EOF: this.incomingChannel(channel).end(); break;
      case FrameType.CREDIT:
        if (payload.length !== 4) throw protocolViolation('a CREDIT frame that is not 4 bytes');
        this.sendCredit += payload.readUInt32LE(0);
        for (const wake of this.creditWaiters.splice(0)) wake();
        break;
      case FrameType.REPLY: {
        const reply = fields();
        const waiter = this.replyWaiters.shift();
        if (waiter) waiter(reply);
        else if (this.replies.length < MAX_PENDING_REPLIES) this.replies.push(reply);
        else throw protocolViolation('more REPLY frames than any operation sends');
        break;
      }
      case FrameType.DONE: this.finish(null, fields()); break;
      case FrameType.ERROR: this.finish(AgentError.fromFields(fields()), null); break;
    }
  }

  /** Ends the stream: on DONE, ERROR, or the link going away. */
  finish(error: Error | null, fields: TlvFields | null): void {
    if (this.closed) return;
    this.closed = true;
    this.link.release(this.id);
    // Output channels just end: the failure is reported once, through `result`.
    for (const entry of this.incoming.values()) entry.end();
    for (const wake of this.creditWaiters.splice(0)) wake();
    if (error) this.settle.reject(error);
    else this.settle.resolve(fields!);
  }
}

/**
 * A Readable that grants credit after every read. Every consumer (flowing mode, pipe, async
 * iteration) takes bytes out through `read`; `_read` alone would not do: Node calls it before
 * removing the chunk it returns, and not again until the next push, which needs the very
 * credit not yet granted. A slow consumer behind a pipe stalled the download that way.
 */
class GrantingReadable extends Readable {
  constructor(private readonly onConsumed: () => void) {
    super({ highWaterMark: INITIAL_CREDIT });
  }

  override read(size?: number): ReturnType<Readable['read']> {
    const chunk: unknown = super.read(size);
    this.onConsumed();
    return chunk;
  }

  override _read(): void {
    this.onConsumed();
  }
}

/** A download channel: pushes frames into a Readable and grants credit back as it drains. */
class IncomingChannel {
  readonly readable: Readable;
  private pushed = 0;
  private granted = 0;
  private ended = false;

  constructor(
    private readonly stream: number,
    private readonly channelId: number,
    private readonly link: StreamLink,
  ) {
    this.readable = new GrantingReadable(() => this.grant());
  }

  push(data: Buffer): void {
    if (this.ended) return;
    this.pushed += data.length;
    // The agent may only send what we granted: more would make us buffer without bound.
    if (this.pushed - this.granted > INITIAL_CREDIT) throw protocolViolation('DATA beyond the granted credit');
    this.readable.push(data);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.readable.push(null);
  }

  /** Grants the agent what the consumer has taken out of the buffer since the last grant. */
  private grant(): void {
    if (this.ended) return;
    const consumed = this.pushed - this.readable.readableLength;
    const grant = consumed - this.granted;
    // Small grants are held back: the agent still holds three quarters of its credit, so
    // holding back never stalls the stream, and a byte-by-byte reader does not flood CREDITs.
    if (grant < INITIAL_CREDIT / 4) return;
    this.granted += grant;
    const payload = Buffer.alloc(4);
    payload.writeUInt32LE(grant);
    this.link.send(encodeFrame(FrameType.CREDIT, this.stream, payload, this.channelId));
  }
}
