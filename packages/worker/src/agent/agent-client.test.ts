import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from './agent-client.js';
import { Channel, FrameType, INITIAL_CREDIT, PROTO_VERSION, encodeFrame } from './frame.js';
import { Key, encodeTlv } from './tlv.js';

// A compromised guest controls its agent, so the worker's client must survive any bytes.
// HostileAgent is a test double at that trust boundary: a socket that answers HELLO and then
// sends what a broken agent would.
class HostileAgent {
  readonly path = join(mkdtempSync(join(tmpdir(), 'hostile-agent-')), 'agent.sock');
  private server: Server | undefined;
  peer: Promise<Socket>;

  constructor() {
    this.peer = new Promise((resolve) => {
      this.server = createServer((socket) => {
        socket.once('data', () => {
          socket.write(encodeFrame(FrameType.HELLO, 0, encodeTlv([[Key.PROTO_VERSION, PROTO_VERSION], [Key.AGENT_VERSION, 'hostile']])));
          resolve(socket);
        });
      }).listen(this.path);
    });
  }

  close(): void {
    this.server?.close();
  }
}

describe('AgentClient against a hostile agent', () => {
  let agent: HostileAgent | undefined;
  afterEach(() => agent?.close());

  it('drops the link, not the worker, on a malformed CREDIT frame', async () => {
    agent = new HostileAgent();
    const { client } = await AgentClient.connect(agent.path, { timeoutMs: 2000 });
    const proc = client.exec({ argv: ['cat'], stdin: true });
    (await agent.peer).write(encodeFrame(FrameType.CREDIT, 1, Buffer.from([1, 2]), Channel.IN));
    await expect(proc.result).rejects.toMatchObject({ code: 'GUEST_ERROR', message: expect.stringMatching(/CREDIT/) });
    await expect(client.ping()).rejects.toMatchObject({ code: 'GUEST_ERROR' });
  });

  it('drops the link when the agent sends more DATA than it was granted', async () => {
    agent = new HostileAgent();
    const { client } = await AgentClient.connect(agent.path, { timeoutMs: 2000 });
    const proc = client.exec({ argv: ['yes'] });
    const peer = await agent.peer;
    const chunk = Buffer.alloc(64 * 1024);
    for (let sent = 0; sent <= INITIAL_CREDIT; sent += chunk.length) peer.write(encodeFrame(FrameType.DATA, 1, chunk, Channel.OUT));
    await expect(proc.result).rejects.toMatchObject({ code: 'GUEST_ERROR', message: expect.stringMatching(/beyond the granted credit/) });
  });

  it('refuses an agent that speaks another protocol version', async () => {
    const server = createServer((socket) => socket.once('data', () => socket.write(encodeFrame(FrameType.HELLO, 0, encodeTlv([[Key.PROTO_VERSION, 99]])))));
    const path = join(mkdtempSync(join(tmpdir(), 'old-agent-')), 'agent.sock');
    await new Promise<void>((resolve) => server.listen(path, resolve));
    await expect(AgentClient.connect(path, { timeoutMs: 2000 })).rejects.toMatchObject({ code: 'GUEST_ERROR', message: expect.stringMatching(/protocol 99/) });
    server.close();
  });
});
