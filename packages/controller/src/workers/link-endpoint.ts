import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { WORKER_LINK_PATH } from '@scaibunker/contracts';
import { secretMatches, workerIdOf } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import { LINK_MAX_PAYLOAD_BYTES, LINK_SUBPROTOCOL, LinkPeer, wsChannel } from '@scaibunker/link';
import type { WorkerHub } from './worker-hub.js';


/**
 * Accepts worker links on the controller's HTTP server. A worker authenticates with the
 * token issued at `POST /workers` (`Authorization: Bearer wrk_….secret`); anything else on
 * this path is refused before the WebSocket handshake, with a plain HTTP status.
 */
export function acceptWorkerLinks(server: Server, repos: Repositories, hub: WorkerHub, onError: (error: unknown) => void): { close(): void } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: LINK_MAX_PAYLOAD_BYTES,
    handleProtocols: (protocols) => (protocols.has(LINK_SUBPROTOCOL) ? LINK_SUBPROTOCOL : false),
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://controller').pathname !== WORKER_LINK_PATH) return;
    void authenticate(repos, request.headers.authorization).then((workerId) => {
      if (!workerId) return refuse(socket, 401, 'Unauthorized');
      wss.handleUpgrade(request, socket, head, (ws) => {
        if (ws.protocol !== LINK_SUBPROTOCOL) return ws.close(1002, `speak ${LINK_SUBPROTOCOL}`);
        hub.attach(workerId, new LinkPeer(wsChannel(ws), { role: 'acceptor', unavailableCode: 'WORKER_UNAVAILABLE', onError }));
      });
    }, (error) => {
      onError(error);
      refuse(socket, 503, 'Service Unavailable');
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    close: () => {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

async function authenticate(repos: Repositories, header: string | undefined): Promise<string | null> {
  const token = /^Bearer (\S+)$/.exec(header ?? '')?.[1];
  const workerId = token ? workerIdOf(token) : null;
  if (!token || !workerId) return null;
  const worker = await repos.workers.get(workerId);
  return worker && secretMatches(token, worker.token_hash) ? workerId : null;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
