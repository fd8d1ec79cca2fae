import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, type Duplex } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import type { LinkPeer } from './link-peer.js';
import type { LinkStream } from './link-stream.js';
import { FrameKind } from './link-frame.js';
import { dial, linkPair, startLoopbackServer, type LoopbackServer, type PeerOptions } from './testing/ws-loopback.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const WINDOW = 256 * KiB;

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function pair(options: PeerOptions = {}, setup?: (acceptor: LinkPeer) => void) {
  const link = await linkPair(options, setup);
  server = link.server;
  return link;
}

function streamId(params: unknown): number {
  if (typeof params === 'object' && params !== null && 'stream' in params && typeof params.stream === 'number') return params.stream;
  throw new ScaiError('VALIDATION_ERROR', 'stream is required');
}

/** Pseudo-random bytes made chunk by chunk, so the source holds one chunk, never the whole. */
function source(totalBytes: number, chunkBytes = 256 * KiB): { readable: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = totalBytes;
  const readable = new Readable({
    highWaterMark: chunkBytes,
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(chunkBytes, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { readable, sha256: () => hash.digest('hex') };
}

/**
 * Reads a stream to its end. Not `for await`: that destroys a Duplex once its readable side
 * ends, which would reset the direction this side may still be writing.
 */
async function sha256Of(stream: Duplex): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  stream.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  await once(stream, 'end');
  return { sha256: hash.digest('hex'), bytes };
}

async function readText(stream: Duplex): Promise<string> {
  let text = '';
  stream.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
  await once(stream, 'end');
  return text;
}

/** Serves `echo`: accepts the announced stream and sends every byte back, then ends. */
function serveEcho(peer: LinkPeer): void {
  peer.handle('echo', streamId, async (id, ctx) => {
    const stream = ctx.link.acceptStream(id);
    stream.pipe(stream);
    await finished(stream);
    return 'echoed';
  });
}

describe('LinkStream', () => {
  it('moves 64 MiB byte-exact, never holding more than the window at the reader', async () => {
    let readerPeak = 0;
    const { dialer } = await pair({}, (peer) => peer.handle('upload', streamId, async (id, ctx) => {
      const stream = ctx.link.acceptStream(id);
      stream.on('data', () => { readerPeak = Math.max(readerPeak, stream.readableLength); });
      const result = await sha256Of(stream);
      stream.end();
      return result;
    }));
    const stream = dialer.openStream();
    const data = source(64 * MiB);
    const [result] = await Promise.all([dialer.call<{ sha256: string; bytes: number }>('upload', { stream: stream.id }, { timeoutMs: 60_000 }), pipeline(data.readable, stream)]);
    expect(result).toEqual({ sha256: data.sha256(), bytes: 64 * MiB });
    expect(readerPeak).toBeLessThanOrEqual(WINDOW);
    await expect.poll(() => dialer.stats().streams).toBe(0);
  });

  it('stalls a writer end to end while its reader does not read', async () => {
    let held: LinkStream | undefined;
    const { dialer } = await pair({}, (peer) => peer.handle('hold', streamId, (id, ctx) => {
      held = ctx.link.acceptStream(id);
    }));
    const stream = dialer.openStream();
    await dialer.call('hold', { stream: stream.id });
    const written: boolean[] = [];
    const chunk = randomBytes(64 * KiB);
    for (let i = 0; i < 16; i += 1) written.push(stream.write(chunk));
    let drained = false;
    const drain = once(stream, 'drain').then(() => { drained = true; });
    // What crossed the link sits in the reader's buffer: the credit it granted, and no more.
    await expect.poll(() => held?.readableLength).toBe(WINDOW);
    await sleep(200);

    expect(written).toContain(false);
    expect(held?.readableLength).toBe(WINDOW);
    expect(stream.writableLength).toBe(16 * 64 * KiB - WINDOW);
    expect(drained).toBe(false);

    // Reading resumes the sender, and every byte arrives in order.
    const received = sha256Of(held!);
    await drain;
    stream.end();
    held!.end();
    await expect(received).resolves.toEqual({
      bytes: 16 * 64 * KiB,
      sha256: createHash('sha256').update(Buffer.concat(Array.from({ length: 16 }, () => chunk))).digest('hex'),
    });
    await expect.poll(() => dialer.stats().streams).toBe(0);
  });

  it('stops pulling from a piped source while its reader does not read (bounded memory)', async () => {
    let held: LinkStream | undefined;
    const { dialer } = await pair({}, (peer) => peer.handle('hold', streamId, (id, ctx) => {
      held = ctx.link.acceptStream(id);
    }));
    const stream = dialer.openStream();
    await dialer.call('hold', { stream: stream.id });
    // Both ends stay open until the server closes, which fails them.
    stream.on('error', () => undefined);
    held?.on('error', () => undefined);
    let produced = 0;
    const endless = new Readable({
      highWaterMark: 64 * KiB,
      read() {
        produced += 64 * KiB;
        this.push(Buffer.alloc(64 * KiB, 1));
      },
    });
    endless.pipe(stream);
    await expect.poll(() => held?.readableLength).toBe(WINDOW);
    await sleep(200);
    expect(held?.readableLength).toBe(WINDOW);
    // The window, plus the writer's buffer, plus the source's: a few frames, not gigabytes.
    expect(produced).toBeLessThanOrEqual(WINDOW + 4 * 64 * KiB);
    endless.unpipe(stream);
    endless.destroy();
  });

  it('interleaves many concurrent streams opened by either side', async () => {
    // A small high-water mark makes the link-level backpressure (queued DATA, drain) work too.
    const options = { highWaterMarkBytes: 64 * KiB };
    const { dialer, acceptor } = await pair(options, serveEcho);
    serveEcho(dialer);
    const roundTrip = async (from: LinkPeer, bytes: number) => {
      const stream = from.openStream();
      const data = source(bytes, 48 * KiB);
      // The first bytes go out before the call announcing the stream: the far side holds them.
      const [, echoed] = await Promise.all([pipeline(data.readable, stream), sha256Of(stream), from.call('echo', { stream: stream.id })]);
      return { sent: data.sha256(), echoed: echoed.sha256, bytes: echoed.bytes };
    };
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => roundTrip(i % 2 === 0 ? dialer : acceptor, 512 * KiB + i * 7919)));
    for (const [i, result] of results.entries()) expect(result).toEqual({ sent: result.echoed, echoed: result.sent, bytes: 512 * KiB + i * 7919 });
    await expect.poll(() => [dialer.stats().streams, acceptor.stats().streams]).toEqual([0, 0]);
  });

  it('sends no DATA while the transport holds more than the high-water mark', async () => {
    // Large windows put more DATA in flight than loopback's kernel buffers take at once.
    const highWaterMarkBytes = 64 * KiB;
    const windowBytes = 4 * MiB;
    server = await startLoopbackServer({ windowBytes }, (peer) => peer.handle('upload', streamId, async (id, ctx) => {
      const stream = ctx.link.acceptStream(id);
      const result = await sha256Of(stream);
      stream.end();
      return result;
    }));
    // A pass-through view of the real channel: what the transport held at each DATA send.
    const heldAtDataSend: number[] = [];
    let sawBlocked = false;
    const dialer = await dial(server.url, { highWaterMarkBytes, windowBytes }, (channel) => ({
      ...channel,
      bufferedAmount: () => {
        const held = channel.bufferedAmount();
        if (held > highWaterMarkBytes) sawBlocked = true;
        return held;
      },
      send: (data) => {
        if (typeof data !== 'string' && data[4] === FrameKind.DATA) heldAtDataSend.push(channel.bufferedAmount());
        channel.send(data);
      },
    }));
    const upload = async () => {
      const stream = dialer.openStream();
      const data = source(8 * MiB, MiB);
      const [result] = await Promise.all([dialer.call<{ sha256: string }>('upload', { stream: stream.id }), pipeline(data.readable, stream)]);
      expect(result.sha256).toBe(data.sha256());
    };
    await Promise.all(Array.from({ length: 16 }, upload));
    expect(sawBlocked).toBe(true);
    expect(Math.max(...heldAtDataSend)).toBeLessThanOrEqual(highWaterMarkBytes);
  });

  it('half-closes each direction on its own', async () => {
    const { dialer } = await pair({}, (peer) => peer.handle('greet', streamId, async (id, ctx) => {
      const stream = ctx.link.acceptStream(id);
      // This side ends first, then keeps reading what the other side still sends.
      stream.end('banner\n');
      return readText(stream);
    }));
    const stream = dialer.openStream();
    const banner = readText(stream);
    const reply = dialer.call('greet', { stream: stream.id });
    await expect(banner).resolves.toBe('banner\n');
    // The peer's END closed only its direction: this one still carries data.
    stream.write('still ');
    stream.end('talking');
    await expect(reply).resolves.toBe('still talking');
    await expect.poll(() => dialer.stats().streams).toBe(0);
  });

  it('resets a stream on both sides when one side destroys it', async () => {
    let accepted: LinkStream | undefined;
    const { dialer, acceptor } = await pair({}, (peer) => peer.handle('take', streamId, (id, ctx) => {
      accepted = ctx.link.acceptStream(id);
      accepted.on('error', () => undefined);
    }));
    const stream = dialer.openStream();
    await dialer.call('take', { stream: stream.id });
    accepted!.write(randomBytes(WINDOW * 2));
    const failure = once(accepted!, 'error');
    stream.on('error', () => undefined);
    stream.destroy(new ScaiError('CONFLICT', 'changed my mind'));
    await expect(failure).resolves.toEqual([expect.objectContaining({ code: 'INTERNAL', message: expect.stringMatching(/reset stream 1: changed my mind/) })]);
    await expect.poll(() => [dialer.stats().streams, acceptor.stats().streams]).toEqual([0, 0]);
  });

  it('answers a stream reset before it was accepted, and a later accept sees the reset', async () => {
    const { dialer, acceptor } = await pair({}, (peer) => peer.handle('take', streamId, async (id, ctx) => {
      const [error] = (await once(ctx.link.acceptStream(id), 'error')) as [Error];
      return error.message;
    }));
    const stream = dialer.openStream();
    stream.write('partial');
    stream.destroy();
    // The acceptor's answer lets the dialer forget the stream before anyone accepted it.
    await expect.poll(() => dialer.stats().streams).toBe(0);
    expect(acceptor.stats().unacceptedStreams).toBe(1);
    await expect(dialer.call('take', { stream: stream.id })).resolves.toMatch(/reset stream 1: cancelled/);
    expect(acceptor.stats()).toMatchObject({ streams: 0, unacceptedStreams: 0 });
  });

  it('resets a stream nobody accepts within the accept timeout', async () => {
    const { dialer, acceptor } = await pair({ acceptTimeoutMs: 100 });
    const stream = dialer.openStream();
    stream.write('anyone there?');
    const [error] = (await once(stream, 'error')) as [Error];
    expect(error.message).toMatch(/not accepted within 100 ms/);
    // The dialer answers the RESET; the answer clears the acceptor's tombstone, not a new stream.
    await expect.poll(() => [dialer.stats().streams, acceptor.stats().unacceptedStreams]).toEqual([0, 0]);
    await sleep(50);
    expect(acceptor.stats().unacceptedStreams).toBe(0);
  });
});
