import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ScaiError } from '@scaibunker/contracts';
import { ScaiBunkerClient } from './client.js';

/**
 * A stand-in for the shell route at the network edge: answers the upgrade (or refuses it with
 * an envelope) and then plays `script` on the socket.
 */
async function shellServer(script: (socket: WebSocket, url: URL) => void, refuse?: { status: number; code: string }) {
  const wss = new WebSocketServer({ noServer: true });
  const seen: { url: URL; authorization: string | undefined }[] = [];
  const server: Server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url!, 'http://x');
    seen.push({ url, authorization: request.headers.authorization });
    if (refuse) {
      const body = JSON.stringify({ status: 'error', error: { code: refuse.code, message: 'refused' }, meta: { request_id: 'req_9' } });
      socket.end(`HTTP/1.1 ${refuse.status} No\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => script(ws, url));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ScaiBunkerClient({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'sgk_k' });
  servers.push(server);
  return { client, seen };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

describe('BunkerShell', () => {
  it('opens with the key and size, sends bytes written before the open, resizes, and resolves with the exit', async () => {
    const received: unknown[] = [];
    const { client, seen } = await shellServer((ws) => {
      ws.send(JSON.stringify({ type: 'session', id: 'abc' }));
      ws.on('message', (data: Buffer, binary: boolean) => {
        received.push(binary ? data.toString() : JSON.parse(data.toString()));
        if (binary) ws.send(Buffer.from(`echo:${data.toString()}`), { binary: true });
        if (binary && data.toString() === 'exit 3\n') {
          ws.send(JSON.stringify({ type: 'exit', exit_code: 3, signal: null, timed_out: false }));
          ws.close(1000);
        }
      });
    });
    const shell = client.shell('bnk_1', { cols: 100, rows: 30, user: 'root' });
    let output = '';
    shell.onData((bytes) => { output += Buffer.from(bytes).toString(); });
    shell.write('ls\n');
    expect(await shell.session).toBe('abc');
    shell.resize(120, 40);
    shell.write(new TextEncoder().encode('exit 3\n'));
    expect(await shell.closed).toEqual({ exit: { exit_code: 3, signal: null, timed_out: false }, code: 1000 });
    expect(received).toEqual(['ls\n', { type: 'resize', cols: 120, rows: 40 }, 'exit 3\n']);
    expect(output).toBe('echo:ls\necho:exit 3\n');
    expect(seen[0]!.authorization).toBe('Bearer sgk_k');
    expect(seen[0]!.url.pathname).toBe('/v1/modules/scaibunker/bunkers/bnk_1/shell');
    expect(Object.fromEntries(seen[0]!.url.searchParams)).toEqual({ cols: '100', rows: '30', user: 'root' });
    expect(shell.write('late')).toBe(false);
  });

  it('resolves with no exit when the socket drops after the session opened, so the caller can reattach', async () => {
    const { client } = await shellServer((ws) => {
      ws.send(JSON.stringify({ type: 'session', id: 'abc' }));
      setTimeout(() => ws.terminate(), 20);
    });
    const shell = client.shell('bnk_1');
    expect(await shell.session).toBe('abc');
    expect(await shell.closed).toEqual({ exit: null, code: 1006 });
  });

  it('rejects with the envelope’s ScaiError when the upgrade is refused', async () => {
    const { client } = await shellServer(() => undefined, { status: 409, code: 'BUNKER_NOT_RUNNING' });
    const shell = client.shell('bnk_1');
    const error = await shell.closed.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'BUNKER_NOT_RUNNING', requestId: 'req_9' });
    await expect(shell.session).rejects.toBe(error);
  });

  it('rejects with a ScaiError when the server sends an error message', async () => {
    const { client } = await shellServer((ws) => {
      ws.send(JSON.stringify({ type: 'error', code: 'NOT_FOUND', message: 'No such shell session.' }));
      ws.close(1011, 'NOT_FOUND');
    });
    await expect(client.shell('bnk_1', { session: '0'.repeat(24) }).closed).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'No such shell session.' });
  });

  it('rejects with the connection error when nothing listens', async () => {
    const client = new ScaiBunkerClient({ host: 'http://127.0.0.1:1', apiKey: 'k' });
    const error = await client.shell('bnk_1').closed.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ScaiError);
    expect((error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
