import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirecrackerApi } from './firecracker-api.js';

describe('FirecrackerApi against a stand-in API server', () => {
  let dir: string;
  let socketPath: string;
  let server: Server | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-api-'));
    socketPath = join(dir, 'fc.sock');
  });

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stands in for Firecracker's API socket, answering as `handler` says. */
  async function serve(handler: RequestListener): Promise<FirecrackerApi> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    return FirecrackerApi.waitForSocket(socketPath, 1000);
  }

  it('resolves on 204 No Content', async () => {
    const api = await serve((_req, res) => res.writeHead(204).end());
    await expect(api.put('/actions', { action_type: 'InstanceStart' })).resolves.toBeUndefined();
  });

  it('reports the fault_message of a refusal', async () => {
    const api = await serve((_req, res) => res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ fault_message: 'Invalid vCPU count.' })));
    await expect(api.put('/machine-config', { vcpu_count: 0, mem_size_mib: 128 })).rejects.toMatchObject({
      code: 'INTERNAL', message: 'Firecracker refused PUT /machine-config (HTTP 400): Invalid vCPU count.',
    });
  });

  it('reports a refusal without a JSON body by its text', async () => {
    const api = await serve((_req, res) => res.writeHead(500).end('internal server error\n'));
    await expect(api.patch('/vm', { state: 'Paused' })).rejects.toThrow('Firecracker refused PATCH /vm (HTTP 500): internal server error');
  });

  it('gives up on a server that never answers', async () => {
    const api = await serve(() => undefined);
    await expect(api.put('/vsock', { guest_cid: 3, uds_path: 'v.sock' }, 50)).rejects.toThrow('Firecracker API PUT /vsock failed: no answer within 50 ms');
  });

  it('cuts off an answer larger than Firecracker ever sends', async () => {
    const api = await serve((_req, res) => res.writeHead(400).end(Buffer.alloc(1024 * 1024, 0x41)));
    await expect(api.put('/entropy', {})).rejects.toThrow(/answer larger than 65536 bytes/);
  });

  it('says when the API socket never appears', async () => {
    await expect(FirecrackerApi.waitForSocket(socketPath, 20)).rejects.toMatchObject({ code: 'VM_BOOT_FAILED' });
  });
});
