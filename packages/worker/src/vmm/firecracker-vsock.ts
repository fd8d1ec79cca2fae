import { connect, type Socket } from 'node:net';
import { ScaiError } from '@scaibunker/contracts';

/**
 * The longest acknowledgement there is: `OK 4294967295\n`. Anything longer without a
 * newline is not Firecracker's answer, and is refused before it is buffered further.
 */
const MAX_ACK_BYTES = 14;
/** Firecracker gives the guest 2 s to answer a connection request before it drops it. */
const ATTEMPT_TIMEOUT_MS = 3000;

/** One handshake that failed; `retryable` when nothing in the guest listens on the port yet. */
export class VsockConnectError extends ScaiError {
  constructor(message: string, readonly retryable: boolean, options: { cause?: unknown } = {}) {
    super('GUEST_UNREACHABLE', message, options);
  }
}

/**
 * Opens one host-initiated connection to a guest vsock port through Firecracker's vsock
 * socket (docs/vsock.md): connect to the unix socket, send `CONNECT <port>\n`, read
 * `OK <host port>\n`. The socket comes back carrying only the guest's bytes: whatever
 * arrived behind the OK line is put back in front of the stream.
 */
export function connectVsock(udsPath: string, port: number, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortReason(options.signal));
    const socket = connect(udsPath);
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new VsockConnectError(`No answer to CONNECT ${port} within ${options.timeoutMs} ms.`, true)), options.timeoutMs);
    const onAbort = () => fail(abortReason(options.signal));
    // Firecracker ends the connection instead of answering when no guest socket listens.
    const onEnd = () => fail(new VsockConnectError(`Firecracker closed the connection to vsock port ${port} without OK: nothing in the guest listens there (yet).`, true));
    const onError = (error: NodeJS.ErrnoException) => {
      // No socket yet (ENOENT) or no listener on it (ECONNREFUSED): the VMM is still starting.
      const starting = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' || error.code === 'EPIPE';
      fail(new VsockConnectError(`Cannot reach the vsock socket ${udsPath}: ${error.message}`, starting, { cause: error }));
    };
    // 'readable' and read(), not 'data': the stream stays out of flowing mode, so nothing
    // behind the OK line is emitted before its owner listens.
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = Buffer.concat([received, chunk]);
        const newline = received.indexOf(0x0a);
        if (newline < 0) {
          if (received.length > MAX_ACK_BYTES) return fail(protocolError(port, received));
          continue;
        }
        const match = /^OK (\d{1,10})$/.exec(received.subarray(0, newline).toString('latin1'));
        if (!match) return fail(protocolError(port, received.subarray(0, newline)));
        cleanup();
        const rest = received.subarray(newline + 1);
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
    };
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('readable', onReadable).off('end', onEnd).off('close', onEnd).off('error', onError);
    };
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => socket.write(`CONNECT ${port}\n`));
    socket.on('readable', onReadable).once('end', onEnd).once('close', onEnd).once('error', onError);
  });
}

/**
 * Connects to a guest vsock port, trying again while nothing listens there yet (the guest
 * is still booting, or the agent is between two connections) until `timeoutMs` has passed.
 */
export async function connectVsockWhenListening(
  udsPath: string,
  port: number,
  options: { timeoutMs: number; retryMs?: number; signal?: AbortSignal },
): Promise<Socket> {
  const deadline = Date.now() + options.timeoutMs;
  const retryMs = options.retryMs ?? 10;
  for (;;) {
    options.signal?.throwIfAborted();
    const attemptMs = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - Date.now()));
    try {
      return await connectVsock(udsPath, port, { timeoutMs: attemptMs, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if (!(error instanceof VsockConnectError && error.retryable)) throw error;
      if (Date.now() + retryMs >= deadline) {
        throw new ScaiError('GUEST_UNREACHABLE', `The guest agent did not accept a connection on vsock port ${port} within ${options.timeoutMs} ms; last: ${error.message}`, { cause: error });
      }
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

function protocolError(port: number, line: Buffer): VsockConnectError {
  return new VsockConnectError(`Unexpected answer to CONNECT ${port}: ${JSON.stringify(line.subarray(0, 40).toString('latin1'))}`, false);
}
