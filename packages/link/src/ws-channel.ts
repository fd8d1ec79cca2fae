import { WebSocket, type RawData } from 'ws';
import { ScaiError } from '@scaibunker/contracts';
import { MAX_TEXT_BYTES } from './link-message.js';
import type { MessageChannel } from './message-channel.js';

/** The WebSocket subprotocol of this link version: the accepting side refuses any other. */
export const LINK_SUBPROTOCOL = 'scaibunker-link.v1';
/**
 * The `maxPayload` to give `ws` on both ends: no link message is larger, and `ws` then refuses
 * a bigger one before buffering it.
 */
export const LINK_MAX_PAYLOAD_BYTES = MAX_TEXT_BYTES;

/** How long a closing link may take to say goodbye before its socket is torn down. */
const CLOSE_GRACE_MS = 2000;

/** Options of the `ws` adapter. */
export interface WsChannelOptions {
  /**
   * Pings the peer this often and drops the link when a ping goes unanswered for a whole
   * interval (a dead peer behind a half-open TCP connection otherwise looks alive). 0 disables.
   * Default 30 s.
   */
  keepAliveMs?: number;
}

/** Wraps an open `ws` WebSocket (a dialed one, or one a WebSocketServer handed over) as a channel. */
export function wsChannel(socket: WebSocket, options: WsChannelOptions = {}): MessageChannel {
  if (socket.readyState !== WebSocket.OPEN) throw new ScaiError('INTERNAL', 'wsChannel needs an open WebSocket.');
  const drainListeners: (() => void)[] = [];
  // ws emits 'error' before 'close'; without a listener an error would crash the process.
  let failure: Error | undefined;
  socket.on('error', (error) => { failure = error; });
  // ws has no drain event; the callback of each send runs once its bytes reached the kernel.
  const onSent = (error?: Error) => {
    if (!error) for (const listener of drainListeners) listener();
  };

  const keepAliveMs = options.keepAliveMs ?? 30_000;
  if (keepAliveMs > 0) {
    let answered = true;
    socket.on('pong', () => { answered = true; });
    const timer = setInterval(() => {
      if (!answered) return socket.terminate();
      answered = false;
      socket.ping();
    }, keepAliveMs);
    timer.unref();
    socket.once('close', () => clearInterval(timer));
  }

  return {
    send: (data) => socket.send(data, { binary: typeof data !== 'string' }, onSent),
    bufferedAmount: () => socket.bufferedAmount,
    onMessage: (listener) => socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = toBuffer(data);
      listener(isBinary ? bytes : bytes.toString('utf8'));
    }),
    onDrain: (listener) => { drainListeners.push(listener); },
    onClose: (listener) => socket.once('close', (code: number, reason: Buffer) => {
      const why = reason.length > 0 ? `: ${reason.toString('utf8')}` : '';
      listener(new Error(failure ? failure.message : `WebSocket closed with code ${code}${why}`));
    }),
    close: (code = 1000, reason = '') => {
      socket.close(code, closeReason(reason));
      // ws waits 30 s for the peer's half of the closing handshake; a peer that broke the
      // protocol or stopped reading is not worth holding buffers for that long.
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    },
  };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** A close reason is at most 123 bytes of valid UTF-8 (ws throws otherwise): cut by characters. */
function closeReason(reason: string): string {
  let cut = reason;
  while (Buffer.byteLength(cut, 'utf8') > 123) cut = cut.slice(0, -1);
  return cut;
}
