import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { connectVsock, connectVsockWhenListening, VsockConnectError } from './firecracker-vsock.js';

/**
 * A stand-in for Firecracker's vsock unix socket (no Firecracker or vhost-vsock here): it
 * reads the `CONNECT <port>\n` line of each connection and lets the test answer it.
 */
function standInVsockSocket(path: string, answer: (socket: Socket, connectLine: string, index: number) => void): Promise<Server> {
  let index = 0;
  const server = createServer((socket) => {
    const n = index++;
    let line = '';
    const onData = (chunk: Buffer) => {
      line += chunk.toString('latin1');
      const newline = line.indexOf('\n');
      if (newline < 0) return;
      socket.off('data', onData);
      answer(socket, line.slice(0, newline), n);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** Everything a socket delivers until `bytes` have arrived (a lost byte fails within a second). */
function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => reject(new Error(`only ${size} of ${bytes} bytes arrived: ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`)), 1000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size < bytes) return;
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', reject);
  });
}

describe('Firecracker vsock handshake', () => {
  let dir: string;
  let udsPath: string;
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fc-vsock-'));
    udsPath = join(dir, 'v.sock');
  });

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(servers.splice(0).map((server) => new Promise((r) => server.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(answer: (socket: Socket, connectLine: string, index: number) => void): Promise<void> {
    servers.push(await standInVsockSocket(udsPath, answer));
  }

  it('sends CONNECT <port> and hands back a socket that carries only the guest’s bytes', async () => {
    const lines: string[] = [];
    await serve((socket, line) => {
      lines.push(line);
      socket.write('OK 1073741824\n');
      setTimeout(() => socket.write('agent bytes'), 20);
    });
    const socket = await connectVsock(udsPath, 1024, { timeoutMs: 1000 });
    sockets.push(socket);
    expect(lines).toEqual(['CONNECT 1024']);
    expect((await readBytes(socket, 11)).toString()).toBe('agent bytes');
  });

  it('keeps protocol bytes that arrive in the same chunk as the OK line', async () => {
    const hello = Buffer.from([0x42, 0x53, 0x01, 0x01, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
    await serve((socket) => socket.write(Buffer.concat([Buffer.from('OK 1073741825\n'), hello])));
    const socket = await connectVsock(udsPath, 1024, { timeoutMs: 1000 });
    sockets.push(socket);
    // Read only later, as AgentClient would after the handshake resolved: nothing may be lost.
    await new Promise((r) => setTimeout(r, 30));
    expect(await readBytes(socket, hello.length)).toEqual(hello);
  });

  it('reads an OK line that arrives split over several chunks', async () => {
    await serve((socket) => {
      socket.write('O');
      setTimeout(() => socket.write('K 10737'), 10);
      setTimeout(() => socket.write('41826\nrest'), 20);
    });
    const socket = await connectVsock(udsPath, 52, { timeoutMs: 1000 });
    sockets.push(socket);
    expect((await readBytes(socket, 4)).toString()).toBe('rest');
  });

  it('calls a connection closed without OK refused, and worth retrying', async () => {
    await serve((socket) => socket.end());
    const error = await connectVsock(udsPath, 1024, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VsockConnectError);
    expect(error).toMatchObject({ code: 'GUEST_UNREACHABLE', retryable: true });
    expect((error as Error).message).toMatch(/closed the connection to vsock port 1024 without OK/);
  });

  it('calls a missing socket retryable (the VMM is still starting)', async () => {
    const error = await connectVsock(udsPath, 1024, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GUEST_UNREACHABLE', retryable: true });
  });

  it('rejects an answer that is not OK <port>', async () => {
    await serve((socket) => socket.write('ERR no such port\n'));
    const error = await connectVsock(udsPath, 1024, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GUEST_UNREACHABLE', retryable: false });
    expect((error as Error).message).toMatch(/Unexpected answer to CONNECT 1024: "ERR no such port"/);
  });

  it('rejects an over-long line before its newline comes', async () => {
    await serve((socket) => socket.write('OK 10737418240000000000000000000000'));
    const error = await connectVsock(udsPath, 1024, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GUEST_UNREACHABLE', retryable: false });
    expect((error as Error).message).toMatch(/Unexpected answer to CONNECT 1024/);
  });

  it('rejects an OK line with more than a port after it', async () => {
    await serve((socket) => socket.write('OK 12345678901\n'));
    await expect(connectVsock(udsPath, 1024, { timeoutMs: 1000 })).rejects.toMatchObject({ retryable: false });
  });

  it('times out when the peer never answers', async () => {
    await serve(() => undefined);
    const error = await connectVsock(udsPath, 1024, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toMatch(/No answer to CONNECT 1024 within 50 ms/);
  });

  it('retries refused connections until the guest listens', async () => {
    await serve((socket, _line, index) => {
      if (index < 3) socket.end();
      else socket.write('OK 1073741830\nready');
    });
    const socket = await connectVsockWhenListening(udsPath, 1024, { timeoutMs: 2000, retryMs: 5 });
    sockets.push(socket);
    expect((await readBytes(socket, 5)).toString()).toBe('ready');
  });

  it('gives up after its deadline with the last reason', async () => {
    await serve((socket) => socket.end());
    const error = await connectVsockWhenListening(udsPath, 1024, { timeoutMs: 100, retryMs: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).not.toBeInstanceOf(VsockConnectError);
    // The last attempt may be cut short by the deadline itself, so its reason is either.
    expect((error as Error).message).toMatch(/did not accept a connection on vsock port 1024 within 100 ms; last: (Firecracker closed|No answer)/);
  });

  it('does not retry a protocol violation', async () => {
    let connections = 0;
    await serve((socket) => {
      connections++;
      socket.write('garbage\n');
    });
    await expect(connectVsockWhenListening(udsPath, 1024, { timeoutMs: 1000, retryMs: 5 })).rejects.toMatchObject({ retryable: false });
    expect(connections).toBe(1);
  });

  it('stops retrying when aborted (the VMM exited)', async () => {
    await serve((socket) => socket.end());
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the VMM exited')), 30);
    await expect(connectVsockWhenListening(udsPath, 1024, { timeoutMs: 5000, retryMs: 5, signal: controller.signal })).rejects.toThrow('the VMM exited');
  });
});
