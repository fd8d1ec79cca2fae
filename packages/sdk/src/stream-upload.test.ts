import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { ScaiBunkerClient } from './client.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<ScaiBunkerClient> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return new ScaiBunkerClient({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'k' });
}

/** 64 KiB chunks, each a fresh buffer (as a file stream gives), `mib` MiB in all. */
async function* chunks(mib: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < mib * 16; i++) yield Buffer.alloc(64 * 1024, i);
}

describe('files.write without a custom fetch', () => {
  it('streams an upload over node:http letting each chunk go once sent, so memory stays flat (fetch keeps them all: undici#4058)', async () => {
    const samples: number[] = [];
    const client = await serve(async (request, response) => {
      let received = 0;
      for await (const chunk of request) {
        received += (chunk as Buffer).length;
        if (received % (8 * 1024 * 1024) === 0) {
          gc();
          samples.push(process.memoryUsage().arrayBuffers);
        }
      }
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'ok', data: { path: '/big', size: received } }));
    });
    gc();
    const before = process.memoryUsage().arrayBuffers;
    expect(await client.files.write('bnk_1', '/big', chunks(256))).toEqual({ path: '/big', size: 256 * 1024 * 1024 });
    expect(samples.length).toBe(32);
    expect(Math.max(...samples) - before).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);

  it('answers the server’s refusal even when it comes before the body is read', async () => {
    const client = await serve((request, response) => {
      response.writeHead(404, { 'content-type': 'application/json', connection: 'close' });
      response.end(JSON.stringify({ status: 'error', error: { code: 'GUEST_PATH_NOT_FOUND', message: 'No such directory.' } }));
      request.destroy();
    });
    const error = await client.files.write('bnk_1', '/no/dir/f', chunks(64)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'GUEST_PATH_NOT_FOUND' });
  });
});
