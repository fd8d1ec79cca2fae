import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ScaiBunkerClient } from '@scaibunker/sdk';
import { runShell } from './shell.js';

const SESSION = 'ab'.repeat(12);

/** A stand-in for the shell route at the network edge: each connection plays the next script. */
async function shellServer(scripts: Array<(socket: WebSocket) => void>) {
  const wss = new WebSocketServer({ noServer: true });
  const urls: URL[] = [];
  const server = createServer((_request, response) => response.writeHead(426).end());
  server.on('upgrade', (request, socket, head) => {
    urls.push(new URL(request.url!, 'http://x'));
    const script = scripts.shift()!;
    wss.handleUpgrade(request, socket, head, (ws) => script(ws));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { client: new ScaiBunkerClient({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' }), urls };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

/** Piped (not a terminal) input and captured output. */
function pipedTerminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => { printed += chunk.toString(); });
  return { terminal: { input, output }, input, printed: () => printed };
}

const exit = (code: number) => JSON.stringify({ type: 'exit', exit_code: code, signal: null, timed_out: false });

describe('runShell', () => {
  it('reattaches a dropped socket by session id, prints the replay only where it is new, and answers the exit code', async () => {
    const typed: string[] = [];
    const { client, urls } = await shellServer([
      (ws) => {
        ws.send(JSON.stringify({ type: 'session', id: SESSION }));
        ws.send(Buffer.from('welcome to the bunker shell\r\n$ '), { binary: true });
        ws.on('message', (data: Buffer) => {
          typed.push(data.toString());
          // The connection drops before the command's output is delivered.
          ws.terminate();
        });
      },
      (ws) => {
        ws.send(JSON.stringify({ type: 'session', id: SESSION }));
        ws.send(Buffer.from('welcome to the bunker shell\r\n$ echo hi\r\nhi\r\n$ '), { binary: true });
        ws.on('message', (data: Buffer) => {
          typed.push(data.toString());
          ws.send(exit(7));
          ws.close(1000);
        });
      },
    ]);
    const { terminal, input, printed } = pipedTerminal();
    input.write('echo hi\n');
    setTimeout(() => input.write('exit 7\n'), 400);
    expect(await runShell(client, 'bnk_1', {}, terminal, [10, 10])).toBe(7);
    expect(printed()).toBe('welcome to the bunker shell\r\n$ echo hi\r\nhi\r\n$ ');
    expect(typed).toEqual(['echo hi\n', 'exit 7\n']);
    expect(urls.map((u) => u.searchParams.get('session'))).toEqual([null, SESSION]);
  });

  it('reattaches when the socket closes before the exit is known, and reads the exit then', async () => {
    const { client } = await shellServer([
      (ws) => {
        ws.send(JSON.stringify({ type: 'session', id: SESSION }));
        ws.send(Buffer.from('bye from a shell that printed enough to recognise\r\n'), { binary: true });
        ws.close(1000);
      },
      (ws) => {
        ws.send(JSON.stringify({ type: 'session', id: SESSION }));
        ws.send(Buffer.from('bye from a shell that printed enough to recognise\r\n'), { binary: true });
        ws.send(exit(3));
        ws.close(1000);
      },
    ]);
    const { terminal, printed } = pipedTerminal();
    expect(await runShell(client, 'bnk_1', {}, terminal, [10])).toBe(3);
    expect(printed()).toBe('bye from a shell that printed enough to recognise\r\n');
  });

  it('ends piped input with Enter and ^D, so the shell exits as if typed', async () => {
    const typed: Buffer[] = [];
    const { client } = await shellServer([
      (ws) => {
        ws.send(JSON.stringify({ type: 'session', id: SESSION }));
        ws.on('message', (data: Buffer) => {
          typed.push(data);
          if (data.includes(4)) {
            ws.send(exit(0));
            ws.close(1000);
          }
        });
      },
    ]);
    const { terminal, input } = pipedTerminal();
    input.end('echo no newline');
    expect(await runShell(client, 'bnk_1', {}, terminal, [])).toBe(0);
    expect(Buffer.concat(typed).toString()).toBe('echo no newline\r\x04');
  });

  it('gives up after its reattach attempts, and does not retry a refusal', async () => {
    const drop = (ws: WebSocket) => { ws.send(JSON.stringify({ type: 'session', id: SESSION })); ws.terminate(); };
    const { client } = await shellServer([drop, drop, drop]);
    await expect(runShell(client, 'bnk_1', {}, pipedTerminal().terminal, [5, 5])).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    const refused = await shellServer([(ws) => { ws.send(JSON.stringify({ type: 'error', code: 'BUNKER_NOT_RUNNING', message: 'paused' })); ws.close(1011); }]);
    await expect(runShell(refused.client, 'bnk_1', {}, pipedTerminal().terminal, [5, 5])).rejects.toMatchObject({ code: 'BUNKER_NOT_RUNNING' });
  });
});
