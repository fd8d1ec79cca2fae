import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ScaiError, WORKER_LINK_PATH } from '@scaibunker/contracts';
import { secretMatches, workerIdOf } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import { LINK_SUBPROTOCOL, LinkPeer, wsChannel } from '@scaibunker/link';
import type { WorkerHub } from './worker-hub.js';

/**
 * Where workers dial in: a WebSocket upgrade authenticated by the worker's own credential
 * (`Authorization: Bearer wrk_….secret`, issued by `POST /workers`), not by an API key. A bad
 * credential is refused before the handshake, with the usual error envelope.
 */
export const workerLinkRoute: FastifyPluginAsync<{ repos: Repositories; hub: WorkerHub }> = async (app, { repos, hub }) => {
  const workerOf = new WeakMap<FastifyRequest, string>();

  app.route({
    method: 'GET',
    url: WORKER_LINK_PATH,
    config: { public: true },
    schema: { tags: ['workers'], summary: `A worker's link to the controller: a WebSocket (subprotocol ${LINK_SUBPROTOCOL}; see packages/link), authenticated by the worker's token` },
    preValidation: async (request) => {
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw new ScaiError('AUTH_TOKEN_MISSING', 'A worker dials in with its token as a bearer credential.');
      const workerId = workerIdOf(token);
      const worker = workerId ? await repos.workers.get(workerId) : undefined;
      if (!worker || !secretMatches(token, worker.token_hash)) throw new ScaiError('AUTH_TOKEN_INVALID', 'Unknown worker credential.');
      workerOf.set(request, worker.id);
    },
    // A plain GET (no upgrade) gets this answer; the WebSocket gets wsHandler.
    handler: async () => { throw new ScaiError('UPGRADE_REQUIRED', `This is a WebSocket endpoint (subprotocol ${LINK_SUBPROTOCOL}).`); },
    wsHandler: (socket, request) => {
      if (socket.protocol !== LINK_SUBPROTOCOL) return socket.close(1002, `speak ${LINK_SUBPROTOCOL}`);
      hub.attach(workerOf.get(request)!, new LinkPeer(wsChannel(socket), {
        role: 'acceptor', unavailableCode: 'WORKER_UNAVAILABLE', onError: (error) => request.log.warn({ err: error }, 'worker link error'),
      }));
    },
  });
};
