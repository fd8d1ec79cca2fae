import { WebSocket, WebSocketServer } from 'ws';
import { LinkPeer, type LinkPeerOptions } from '../link-peer.js';
import type { MessageChannel } from '../message-channel.js';
import { LINK_MAX_PAYLOAD_BYTES, LINK_SUBPROTOCOL, wsChannel } from '../ws-channel.js';

/** Options of a test link end, without the role (the side decides it). */
export type PeerOptions = Omit<LinkPeerOptions, 'role'>;

/** A real WebSocket server on loopback whose connections become acceptor-side peers. */
export interface LoopbackServer {
  url: string;
  /** Resolves with the peer of the next connection (or of one already waiting). */
  nextPeer(): Promise<LinkPeer>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1, port 0; `setup` registers handlers on each new peer. */
export async function startLoopbackServer(
  options: PeerOptions & { maxPayload?: number; keepAliveMs?: number } = {},
  setup: (peer: LinkPeer) => void = () => undefined,
): Promise<LoopbackServer> {
  const { maxPayload = LINK_MAX_PAYLOAD_BYTES, keepAliveMs = 0, ...peerOptions } = options;
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    maxPayload,
    handleProtocols: (protocols) => (protocols.has(LINK_SUBPROTOCOL) ? LINK_SUBPROTOCOL : false),
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const ready: LinkPeer[] = [];
  const waiters: ((peer: LinkPeer) => void)[] = [];
  server.on('connection', (socket) => {
    const peer = new LinkPeer(wsChannel(socket, { keepAliveMs }), { role: 'acceptor', ...peerOptions });
    setup(peer);
    const waiter = waiters.shift();
    if (waiter) waiter(peer);
    else ready.push(peer);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    nextPeer: () => {
      const peer = ready.shift();
      return peer ? Promise.resolve(peer) : new Promise((resolve) => waiters.push(resolve));
    },
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/** Dials a raw WebSocket speaking the link subprotocol (hostile tests write frames by hand). */
export async function dialRaw(url: string, maxPayload = 64 * 1024 * 1024): Promise<WebSocket> {
  const socket = new WebSocket(url, LINK_SUBPROTOCOL, { maxPayload });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/**
 * Dials the server as the worker would: a dialer-side peer over a real WebSocket. `observe`
 * may wrap the channel to watch what the peer does with it (it must pass every call through).
 */
export async function dial(url: string, options: PeerOptions = {}, observe: (channel: MessageChannel) => MessageChannel = (channel) => channel): Promise<LinkPeer> {
  const socket = await dialRaw(url, LINK_MAX_PAYLOAD_BYTES);
  return new LinkPeer(observe(wsChannel(socket, { keepAliveMs: 0 })), { role: 'dialer', ...options });
}

/** Both ends of one link over loopback. */
export async function linkPair(options: PeerOptions = {}, setup?: (acceptor: LinkPeer) => void): Promise<{ dialer: LinkPeer; acceptor: LinkPeer; server: LoopbackServer }> {
  const server = await startLoopbackServer(options, setup);
  const dialer = await dial(server.url, options);
  return { dialer, acceptor: await server.nextPeer(), server };
}
