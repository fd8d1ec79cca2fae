import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { FrameKind, MAX_DATA_BYTES, encodeCredit, encodeFrame } from './link-frame.js';
import { LINK_DEFAULTS, type LinkPeer } from './link-peer.js';
import { dial, dialRaw, startLoopbackServer, type LoopbackServer } from './testing/ws-loopback.js';

// The controller accepts links from workers, and a worker host may be compromised: whatever a
// peer sends must cost it its own link, and never the process or the other links.
const WINDOW = LINK_DEFAULTS.windowBytes;
const chunk = Buffer.alloc(MAX_DATA_BYTES, 7);

let server: LoopbackServer;
beforeAll(async () => {
  // ws would refuse an oversized message itself (LINK_MAX_PAYLOAD_BYTES); a larger maxPayload
  // here lets the test reach the link's own check, which guards transports without one.
  server = await startLoopbackServer({ maxPayload: 4 * 1024 * 1024, maxBufferedBytes: 1024 * 1024 }, (peer) => {
    peer.handle('ping', () => 'pong');
    peer.handle('hang', () => new Promise(() => undefined));
    peer.handle('take', (params, ctx) => {
      const stream = ctx.link.acceptStream((params as { stream: number }).stream);
      stream.on('error', () => undefined);
    });
    peer.handle('flood', (_params, ctx) => {
      for (let i = 0; i < 512; i += 1) ctx.link.notify('noise', 'x'.repeat(64 * 1024));
    });
  });
});
afterAll(() => server.close());

/** Dials raw, lets `attack` misbehave, and returns how the server closed the link. */
async function attack(send: (raw: WebSocket) => Promise<void> | void): Promise<{ code: number; reason: string; serverPeer: LinkPeer }> {
  const raw = await dialRaw(server.url);
  const serverPeer = await server.nextPeer();
  const closed = once(raw, 'close') as Promise<[number, Buffer]>;
  await send(raw);
  const [code, reason] = await closed;
  return { code, reason: reason.toString(), serverPeer };
}

/** A well-behaved peer still gets served (its server-side peer is taken off the queue). */
async function honestPing(): Promise<unknown> {
  const honest = await dial(server.url);
  await server.nextPeer();
  try {
    return await honest.call('ping', {});
  } finally {
    honest.close();
  }
}

async function call(raw: WebSocket, id: number, m: string, p: unknown): Promise<void> {
  const reply = once(raw, 'message');
  raw.send(JSON.stringify({ t: 'call', id, m, p }));
  await reply;
}

describe('LinkPeer against a hostile peer', () => {
  it.each([
    ['text that is not JSON', (raw: WebSocket) => raw.send('{"t":"call",'), 1008, /not JSON/],
    ['a message of unknown type', (raw: WebSocket) => raw.send('{"t":"exec","id":1}'), 1008, /unknown type/],
    ['a call without a method', (raw: WebSocket) => raw.send('{"t":"call","id":1}'), 1008, /bad method/],
    ['a text message over 1 MiB', (raw: WebSocket) => raw.send(`"${'x'.repeat(2 * 1024 * 1024)}"`), 1009, /over 1048576 bytes/],
    ['a binary frame shorter than its header', (raw: WebSocket) => raw.send(Buffer.from([0, 0])), 1008, /binary frame of 2 bytes/],
    ['a binary frame of unknown kind', (raw: WebSocket) => raw.send(encodeFrame(1, 9 as FrameKind)), 1008, /unknown kind 9/],
    ['a frame for a stream id the server never opened', (raw: WebSocket) => raw.send(encodeCredit(2, 1024)), 1008, /stream 2, which was never opened/],
    [
      'DATA beyond the initial credit on a stream nobody accepted',
      (raw: WebSocket) => { for (let sent = 0; sent <= WINDOW; sent += chunk.length) raw.send(encodeFrame(1, FrameKind.DATA, chunk)); },
      1008,
      /beyond the initial credit/,
    ],
    [
      'DATA beyond the granted credit on an accepted stream',
      async (raw: WebSocket) => {
        await call(raw, 1, 'take', { stream: 3 });
        for (let sent = 0; sent <= WINDOW; sent += chunk.length) raw.send(encodeFrame(3, FrameKind.DATA, chunk));
      },
      1008,
      /beyond the granted credit/,
    ],
    [
      'a call id reused while the first call runs',
      (raw: WebSocket) => {
        raw.send(JSON.stringify({ t: 'call', id: 1, m: 'hang' }));
        raw.send(JSON.stringify({ t: 'call', id: 1, m: 'hang' }));
      },
      1008,
      /call id 1 reused/,
    ],
  ] as const)('drops the link of a peer that sends %s, and keeps serving others', async (_what, send, expectedCode, expectedReason) => {
    const { code, reason, serverPeer } = await attack(send);
    expect(code).toBe(expectedCode);
    expect(reason).toMatch(expectedReason);
    expect(serverPeer.closeReason).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(honestPing()).resolves.toBe('pong');
  });

  it('drops the link of a peer that stops reading', async () => {
    const raw = await dialRaw(server.url);
    const serverPeer = await server.nextPeer();
    raw.pause();
    raw.send(JSON.stringify({ t: 'call', id: 1, m: 'flood', p: null }));
    await expect.poll(() => serverPeer.closeReason?.message).toMatch(/stopped reading/);
    raw.terminate();
    await expect(honestPing()).resolves.toBe('pong');
  });

  it('drops a peer that stops answering pings', async () => {
    const pinging = await startLoopbackServer({ keepAliveMs: 50 });
    try {
      const raw = await dialRaw(pinging.url);
      const serverPeer = await pinging.nextPeer();
      // A paused socket reads nothing, so it answers no ping: a peer behind a dead connection.
      raw.pause();
      await expect.poll(() => serverPeer.closeReason?.message).toMatch(/closed with code 1006/);
      raw.terminate();
    } finally {
      await pinging.close();
    }
  });
});
