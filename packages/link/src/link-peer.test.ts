import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import type { LinkPeer } from './link-peer.js';
import { dialRaw, linkPair, startLoopbackServer, type LoopbackServer } from './testing/ws-loopback.js';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function pair(options: Parameters<typeof linkPair>[0] = {}, setup?: (acceptor: LinkPeer) => void) {
  const link = await linkPair(options, setup);
  server = link.server;
  return link;
}

describe('LinkPeer calls', () => {
  it('answers calls in both directions', async () => {
    const { dialer, acceptor } = await pair({}, (peer) => peer.handle('add', (p) => {
      const { a, b } = p as { a: number; b: number };
      return a + b;
    }));
    dialer.handle('whoami', async () => ({ name: 'worker-1' }));
    await expect(dialer.call('add', { a: 2, b: 3 })).resolves.toBe(5);
    await expect(acceptor.call('whoami', null)).resolves.toEqual({ name: 'worker-1' });
  });

  it('rejects with the code, message and details of the ScaiError the handler threw', async () => {
    const { dialer } = await pair({}, (peer) => peer.handle('start', () => {
      throw new ScaiError('VALIDATION_ERROR', 'bad launch', { details: [{ field: 'memoryMb', message: 'too small' }] });
    }));
    const failure = await dialer.call('start', {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ScaiError);
    expect(failure).toMatchObject({ code: 'VALIDATION_ERROR', message: 'bad launch', details: [{ field: 'memoryMb', message: 'too small' }] });
  });

  it('answers INTERNAL with a generic message for a foreign error, and reports it locally', async () => {
    const reported: unknown[] = [];
    const { dialer } = await pair({ onError: (error) => reported.push(error) }, (peer) => peer.handle('crash', () => {
      throw new Error('secret detail at /srv/worker.ts:42');
    }));
    const failure = await dialer.call('crash', {}).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'INTERNAL' });
    expect((failure as Error).message).not.toMatch(/secret|worker\.ts/);
    expect(reported).toEqual([expect.objectContaining({ message: expect.stringContaining('secret') })]);
  });

  it('answers NOT_FOUND for a method nobody handles', async () => {
    const { dialer } = await pair();
    await expect(dialer.call('nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('checks params with the parse function before the handler runs', async () => {
    let ran = false;
    const parse = (params: unknown): { bunkerId: string } => {
      if (typeof params === 'object' && params !== null && 'bunkerId' in params && typeof params.bunkerId === 'string') return { bunkerId: params.bunkerId };
      throw new ScaiError('VALIDATION_ERROR', 'bunkerId is required', { details: [{ field: 'bunkerId', message: 'required' }] });
    };
    const { dialer } = await pair({}, (peer) => peer.handle('stop', parse, ({ bunkerId }) => {
      ran = true;
      return bunkerId;
    }));
    await expect(dialer.call('stop', { nope: 1 })).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'bunkerId', message: 'required' }] });
    expect(ran).toBe(false);
    await expect(dialer.call('stop', { bunkerId: 'bkr_1' })).resolves.toBe('bkr_1');
  });

  it('maps an error code this build does not know to INTERNAL', async () => {
    server = await startLoopbackServer();
    const raw = await dialRaw(server.url);
    raw.on('message', (data) => {
      const call = JSON.parse(String(data)) as { id: number };
      raw.send(JSON.stringify({ t: 'reply', id: call.id, ok: false, e: { code: 'FROM_THE_FUTURE', message: 'newer worker' } }));
    });
    const peer = await server.nextPeer();
    await expect(peer.call('ping', {})).rejects.toMatchObject({ code: 'INTERNAL', message: 'newer worker' });
    raw.close();
  });

  it('refuses params and results too large for one message without dropping the link', async () => {
    const { dialer } = await pair({}, (peer) => peer.handle('big', () => 'x'.repeat(2 * 1024 * 1024)));
    await expect(dialer.call('echo', 'y'.repeat(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(dialer.call('big', {})).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(dialer.closeReason).toBeNull();
  });

  it('times out a call and tells its handler that nobody waits any more', async () => {
    let handlerSignal: AbortSignal | undefined;
    const { dialer } = await pair({}, (peer) => peer.handle('slow', (_p, ctx) => {
      handlerSignal = ctx.signal;
      return new Promise(() => undefined);
    }));
    await expect(dialer.call('slow', {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: expect.stringMatching(/within 100 ms/) });
    await expect.poll(() => handlerSignal?.aborted).toBe(true);
    expect(dialer.stats().pendingCalls).toBe(0);
  });

  it('rejects a call with the reason of its aborted signal', async () => {
    const { dialer } = await pair({}, (peer) => peer.handle('slow', () => new Promise(() => undefined)));
    const controller = new AbortController();
    const call = dialer.call('slow', {}, { signal: controller.signal });
    controller.abort(new ScaiError('CONFLICT', 'caller left'));
    await expect(call).rejects.toMatchObject({ code: 'CONFLICT', message: 'caller left' });
  });
});

describe('LinkPeer events', () => {
  it('delivers events to every listener until it unsubscribes', async () => {
    const { dialer, acceptor } = await pair();
    const seen: unknown[] = [];
    const stop = acceptor.on('bunker.exited', (payload) => seen.push(payload));
    dialer.notify('bunker.exited', { bunkerId: 'bkr_1', exitCode: 0 });
    await expect.poll(() => seen.length).toBe(1);
    stop();
    dialer.notify('bunker.exited', { bunkerId: 'bkr_2', exitCode: 1 });
    // A call round trip after the event proves the second event arrived (in order) and was ignored.
    await expect(dialer.call('nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(seen).toEqual([{ bunkerId: 'bkr_1', exitCode: 0 }]);
  });
});

describe('LinkPeer close', () => {
  it('rejects pending calls, fails open streams and calls close listeners', async () => {
    const { dialer, acceptor } = await pair({ unavailableCode: 'WORKER_UNAVAILABLE' }, (peer) => peer.handle('slow', () => new Promise(() => undefined)));
    const call = dialer.call('slow', {});
    const stream = dialer.openStream();
    const streamError = once(stream, 'error');
    const closed = new Promise<ScaiError>((resolve) => dialer.onClose(resolve));
    await expect.poll(() => acceptor.stats().runningCalls).toBe(1);
    acceptor.close('worker drained');

    await expect(call).rejects.toMatchObject({ code: 'WORKER_UNAVAILABLE' });
    await expect(streamError).resolves.toEqual([expect.objectContaining({ code: 'WORKER_UNAVAILABLE' })]);
    await expect(closed).resolves.toMatchObject({ code: 'WORKER_UNAVAILABLE', message: expect.stringMatching(/worker drained/) });
    await expect(dialer.call('slow', {})).rejects.toMatchObject({ code: 'WORKER_UNAVAILABLE' });
    expect(() => dialer.openStream()).toThrow(ScaiError);
    expect(acceptor.stats()).toEqual({ streams: 0, unacceptedStreams: 0, pendingCalls: 0, runningCalls: 0 });
  });
});
