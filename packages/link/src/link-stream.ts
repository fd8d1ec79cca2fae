import { Duplex } from 'node:stream';
import { ScaiError } from '@scaibunker/contracts';
import { FrameKind, MAX_DATA_BYTES, encodeCredit, encodeFrame, encodeReset, protocolViolation } from './link-frame.js';

/** What a stream needs from the peer that carries it. */
export interface StreamCarrier {
  /** Bytes each direction of a stream may carry before the reader grants more. */
  readonly windowBytes: number;
  /** Sends a frame now (CREDIT, END, RESET, or the DATA frame `sendNextFrame` built). */
  send(frame: Buffer): void;
  /** Asks for a turn: the carrier calls `sendNextFrame` when the link has room. */
  wantSend(stream: LinkStream): void;
  /** Both directions are finished: the carrier forgets the stream id. */
  release(stream: LinkStream): void;
}

/** A pending `_write`: the chunk, how far it has gone out, and whom to tell when it has. */
interface Outgoing {
  data: Buffer;
  offset: number;
  callback: (error?: Error | null) => void;
}

/**
 * One byte stream of a link, as a Duplex. Writes wait for the peer's credit, so a slow reader
 * on the far side stalls the writer here; reads grant credit only as the consumer takes bytes
 * out, so the peer never sends more than this side buffers (the window).
 *
 * Lifecycle on the wire: each side ends its direction with END (or aborts both with RESET).
 * The id is released once this side has sent END/RESET and received END/RESET, so a frame
 * still in flight never lands on a reused or unknown id. A RESET is answered with a RESET
 * unless this side had already finished: the answer is what lets the resetting side let go.
 */
export class LinkStream extends Duplex {
  private sendCredit: number;
  private outgoing: Outgoing | null = null;
  /** DATA bytes received in total, and the total the peer may send (window + CREDITs sent). */
  private received = 0;
  private granted: number;
  private sentFinal = false;
  private receivedFinal = false;
  private released = false;
  private linkClosed = false;

  constructor(
    readonly id: number,
    private readonly carrier: StreamCarrier,
  ) {
    super({ readableHighWaterMark: carrier.windowBytes, writableHighWaterMark: MAX_DATA_BYTES, allowHalfOpen: true });
    this.sendCredit = carrier.windowBytes;
    this.granted = carrier.windowBytes;
  }

  /** Dispatches one frame addressed to this stream; throws on a protocol violation. */
  receive(kind: FrameKind, payload: Buffer): void {
    switch (kind) {
      case FrameKind.DATA: return this.receiveData(payload);
      case FrameKind.CREDIT: return this.receiveCredit(payload.readUInt32BE(0));
      case FrameKind.END: return this.receiveEnd();
      case FrameKind.RESET: return this.receiveReset(payload.toString('utf8'));
    }
  }

  /** Fails a stream that was over before this side accepted it; nothing is left to send. */
  abandon(error: Error): void {
    this.sentFinal = true;
    this.receivedFinal = true;
    this.destroy(error);
  }

  /** The link is gone: fail the stream without sending anything. */
  linkFailed(error: Error): void {
    this.linkClosed = true;
    this.released = true;
    this.destroy(error);
  }

  /**
   * Sends at most one DATA frame (round-robin fairness between streams) or, once the pending
   * write is out, completes it. Returns whether the stream still has something to send.
   */
  sendNextFrame(): boolean {
    const outgoing = this.outgoing;
    if (!outgoing || this.destroyed || this.sendCredit === 0) return false;
    const size = Math.min(MAX_DATA_BYTES, this.sendCredit, outgoing.data.length - outgoing.offset);
    this.carrier.send(encodeFrame(this.id, FrameKind.DATA, outgoing.data.subarray(outgoing.offset, outgoing.offset + size)));
    // Sending can close the link (a peer that stopped reading), which destroys this stream.
    if (this.destroyed) return false;
    this.sendCredit -= size;
    outgoing.offset += size;
    if (outgoing.offset < outgoing.data.length) return this.sendCredit > 0;
    // The callback may start the next write at once, which asks for a turn itself.
    this.outgoing = null;
    outgoing.callback();
    return false;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (chunk.length === 0) return callback();
    this.outgoing = { data: chunk, offset: 0, callback };
    this.carrier.wantSend(this);
  }

  /** Every write's callback ran after its last DATA frame was sent, so END follows them in order. */
  override _final(callback: (error?: Error | null) => void): void {
    this.carrier.send(encodeFrame(this.id, FrameKind.END));
    this.sentFinal = true;
    this.releaseIfDone();
    callback();
  }

  /**
   * Every consumer (flowing mode, pipe, async iteration, 'readable') takes bytes out through
   * `read`: granting here, after they left the buffer, is what lets the sender go on. `_read`
   * alone would not do: Node calls it before removing the chunk it returns, and not again
   * until the next push, which needs the very credit not yet granted.
   */
  override read(size?: number): ReturnType<Duplex['read']> {
    const chunk: unknown = super.read(size);
    this.grant();
    return chunk;
  }

  override _read(): void {
    this.grant();
  }

  /** Grants the peer what the consumer has taken out of the buffer since the last grant. */
  private grant(): void {
    if (this.receivedFinal || this.destroyed) return;
    const consumed = this.received - this.readableLength;
    const grant = consumed + this.carrier.windowBytes - this.granted;
    // Grants wait until a quarter window is owed, saving frames: until then the sender still
    // holds three quarters of its credit, so holding a grant back never stalls the stream.
    if (grant < this.carrier.windowBytes / 4) return;
    this.granted += grant;
    this.carrier.send(encodeCredit(this.id, grant));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.outgoing = null;
    // Tell the peer to stop (it keeps writing otherwise), unless both directions are over.
    if (!this.linkClosed && !(this.sentFinal && this.receivedFinal)) {
      this.carrier.send(encodeReset(this.id, resetReason(error)));
    }
    this.sentFinal = true;
    this.releaseIfDone();
    callback(error);
  }

  private receiveData(payload: Buffer): void {
    if (this.receivedFinal) throw protocolViolation(`DATA after END or RESET on stream ${this.id}`);
    this.received += payload.length;
    // More than we granted would make us buffer without bound: that peer is broken or hostile.
    if (this.received > this.granted) throw protocolViolation(`DATA beyond the granted credit on stream ${this.id}`);
    // A destroyed stream waits for the peer's END/RESET; what arrives meanwhile is dropped.
    if (this.destroyed) return;
    this.push(payload);
    // A flowing consumer may have taken it at once, bypassing `read`.
    this.grant();
  }

  private receiveCredit(bytes: number): void {
    this.sendCredit += bytes;
    if (this.outgoing) this.carrier.wantSend(this);
  }

  private receiveEnd(): void {
    if (this.receivedFinal) throw protocolViolation(`a second END on stream ${this.id}`);
    this.receivedFinal = true;
    if (!this.destroyed) this.push(null);
    this.releaseIfDone();
  }

  private receiveReset(reason: string): void {
    this.receivedFinal = true;
    if (this.destroyed) this.releaseIfDone();
    else this.destroy(peerReset(this.id, reason));
  }

  private releaseIfDone(): void {
    if (this.released || !this.sentFinal || !this.receivedFinal) return;
    this.released = true;
    this.carrier.release(this);
  }
}

/** The error a stream fails with when the peer resets it. */
export function peerReset(id: number, reason: string): ScaiError {
  return new ScaiError('INTERNAL', `The peer reset stream ${id}: ${reason || 'no reason given'}`);
}

function resetReason(error: Error | null): string {
  if (!error) return 'cancelled';
  // Only our own errors say what happened; a foreign error's text stays on this side.
  return error instanceof ScaiError ? error.message : 'aborted';
}
