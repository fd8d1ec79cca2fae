import { ScaiError } from '@scaibunker/contracts';
import { FrameKind, MAX_STREAM_ID, encodeReset, protocolViolation, type StreamFrame } from './link-frame.js';
import { LinkStream, peerReset, type StreamCarrier } from './link-stream.js';

/** Which end of the link this is: the dialing side opens odd stream ids, the accepting side even. */
export type LinkRole = 'dialer' | 'acceptor';

/** The sending half of the link, as the stream table sees it. */
export interface FrameSink {
  send(frame: Buffer): void;
  bufferedAmount(): number;
}

export interface StreamTableOptions {
  role: LinkRole;
  windowBytes: number;
  highWaterMarkBytes: number;
  acceptTimeoutMs: number;
  maxUnacceptedStreams: number;
}

/**
 * A stream the peer opened that this side has not accepted: `open` holds what arrived,
 * `reset` means the peer reset it (answered already), `expired` means we reset it for not
 * being accepted in time and wait for the peer's answer, so that answer is not taken for a
 * new stream.
 */
interface Unaccepted {
  state: 'open' | 'reset' | 'expired';
  chunks: Buffer[];
  bytes: number;
  ended: boolean;
  resetReason: string;
  timer: NodeJS.Timeout;
}

/**
 * The streams of one link: id allocation, routing of binary frames, data the peer sent before
 * this side accepted the stream, and the DATA pump that keeps the transport's buffer bounded.
 */
export class StreamTable implements StreamCarrier {
  readonly windowBytes: number;
  private readonly streams = new Map<number, LinkStream>();
  private readonly unaccepted = new Map<number, Unaccepted>();
  /** Streams with DATA and credit, in round-robin order (a Set keeps insertion order). */
  private readonly ready = new Set<LinkStream>();
  private nextId: number;
  private pumping = false;
  private failed: Error | null = null;

  constructor(
    private readonly sink: FrameSink,
    private readonly options: StreamTableOptions,
  ) {
    this.windowBytes = options.windowBytes;
    this.nextId = options.role === 'dialer' ? 1 : 2;
  }

  open(): LinkStream {
    if (this.failed) throw this.failed;
    if (this.nextId > MAX_STREAM_ID) throw new ScaiError('INTERNAL', 'This link has used up its stream ids; open a new link.');
    const stream = new LinkStream(this.nextId, this);
    this.nextId += 2;
    this.streams.set(stream.id, stream);
    return stream;
  }

  accept(id: number): LinkStream {
    if (this.failed) throw this.failed;
    if (!Number.isSafeInteger(id) || id < 1 || id > MAX_STREAM_ID || this.isOwn(id)) {
      throw new ScaiError('VALIDATION_ERROR', `${String(id)} is not a stream id the peer can open.`);
    }
    if (this.streams.has(id)) throw new ScaiError('CONFLICT', `Stream ${id} is already accepted.`);
    const stream = new LinkStream(id, this);
    const held = this.unaccepted.get(id);
    if (held?.state === 'expired') {
      // The tombstone stays until the peer answers our RESET.
      stream.abandon(new ScaiError('INTERNAL', `Stream ${id} was not accepted within ${this.options.acceptTimeoutMs} ms.`));
      return stream;
    }
    this.streams.set(id, stream);
    if (held) {
      this.unaccepted.delete(id);
      clearTimeout(held.timer);
      if (held.state === 'reset') {
        stream.abandon(peerReset(id, held.resetReason));
        return stream;
      }
      // Replays what the peer sent within its initial credit.
      for (const chunk of held.chunks) stream.receive(FrameKind.DATA, chunk);
      if (held.ended) stream.receive(FrameKind.END, Buffer.alloc(0));
    }
    return stream;
  }

  stats(): { streams: number; unacceptedStreams: number } {
    return { streams: this.streams.size, unacceptedStreams: this.unaccepted.size };
  }

  /** Routes one binary frame; throws on a protocol violation. */
  route(frame: StreamFrame): void {
    const stream = this.streams.get(frame.stream);
    if (stream) return stream.receive(frame.kind, frame.payload);
    if (!this.isOwn(frame.stream)) return this.hold(frame);
    if (frame.stream >= this.nextId) throw protocolViolation(`a frame for stream ${frame.stream}, which was never opened`);
    // A stream of ours that is over: late CREDITs and RESETs are normal. DATA or END means the
    // peer accepted it too late; a RESET tells its side to give up.
    if (frame.kind === FrameKind.DATA || frame.kind === FrameKind.END) this.send(encodeReset(frame.stream, 'stream is closed'));
  }

  /** Sends DATA round-robin while the transport's buffer is under the high-water mark. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (const stream of this.ready) {
        if (this.failed || this.sink.bufferedAmount() > this.options.highWaterMarkBytes) return;
        this.ready.delete(stream);
        // Re-adding moves the stream to the back, and the loop visits it again later.
        if (stream.sendNextFrame()) this.ready.add(stream);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** The link is gone: every stream fails with `error`, held data is dropped. */
  fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    this.ready.clear();
    for (const held of this.unaccepted.values()) clearTimeout(held.timer);
    this.unaccepted.clear();
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const stream of streams) stream.linkFailed(error);
  }

  send(frame: Buffer): void {
    if (!this.failed) this.sink.send(frame);
  }

  wantSend(stream: LinkStream): void {
    if (this.failed) return;
    this.ready.add(stream);
    this.pump();
  }

  release(stream: LinkStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    this.ready.delete(stream);
  }

  private isOwn(id: number): boolean {
    return id % 2 === (this.options.role === 'dialer' ? 1 : 0);
  }

  /**
   * Keeps what the peer sends on a stream nobody accepted yet (it may announce the id in a
   * call that is still on its way). The peer's initial credit bounds it; after the accept
   * timeout the stream is reset.
   */
  private hold(frame: StreamFrame): void {
    // The peer grants credit only for DATA we sent, and we sent none: nothing to keep.
    if (frame.kind === FrameKind.CREDIT) return;
    let held = this.unaccepted.get(frame.stream);
    if (!held) {
      if (this.unaccepted.size >= this.options.maxUnacceptedStreams) {
        if (frame.kind !== FrameKind.RESET) this.send(encodeReset(frame.stream, 'too many unaccepted streams'));
        return;
      }
      held = { state: 'open', chunks: [], bytes: 0, ended: false, resetReason: '', timer: this.expireLater(frame.stream) };
      this.unaccepted.set(frame.stream, held);
    }
    if (held.state === 'reset') {
      if (frame.kind !== FrameKind.RESET) throw protocolViolation(`a frame after RESET on stream ${frame.stream}`);
      return;
    }
    switch (frame.kind) {
      case FrameKind.DATA:
        if (held.ended) throw protocolViolation(`DATA after END on stream ${frame.stream}`);
        held.bytes += frame.payload.length;
        if (held.bytes > this.windowBytes) throw protocolViolation(`DATA beyond the initial credit on unaccepted stream ${frame.stream}`);
        // An expired stream only counts what was in flight when our RESET went out.
        if (held.state === 'open') held.chunks.push(frame.payload);
        break;
      case FrameKind.END:
        if (held.ended) throw protocolViolation(`a second END on stream ${frame.stream}`);
        held.ended = true;
        // The peer finished before our RESET reached it: it sends nothing more.
        if (held.state === 'expired') this.forget(frame.stream, held);
        break;
      case FrameKind.RESET:
        if (held.state === 'expired') return this.forget(frame.stream, held);
        held.state = 'reset';
        held.chunks = [];
        held.resetReason = frame.payload.toString('utf8');
        // Answered at once, so the peer can forget the stream; a later accept sees it reset.
        this.send(encodeReset(frame.stream, 'reset acknowledged'));
        break;
    }
  }

  private expireLater(id: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.expire(id), this.options.acceptTimeoutMs);
    timer.unref();
    return timer;
  }

  /** Resets a stream nobody accepted; a tombstone waits for the answer unless none will come. */
  private expire(id: number): void {
    const held = this.unaccepted.get(id);
    if (!held) return;
    if (held.state !== 'open') return this.forget(id, held);
    this.send(encodeReset(id, `not accepted within ${this.options.acceptTimeoutMs} ms`));
    if (held.ended) return this.forget(id, held);
    held.state = 'expired';
    held.chunks = [];
    // A peer that never answers loses the tombstone after another timeout.
    held.timer = this.expireLater(id);
  }

  private forget(id: number, held: Unaccepted): void {
    clearTimeout(held.timer);
    this.unaccepted.delete(id);
  }
}
