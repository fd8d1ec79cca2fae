import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorEnvelope, ScaiError } from '@scaibunker/contracts';
import { newId } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';
import { errorEnvelope, installErrorHandling, toScaiError } from './http/error-handler.js';
import { installValidators } from './http/validation.js';
import './http/request-context.js';
import { apiKeysRoutes } from './plugins/api-keys/api-keys-routes.js';
import { auditHook } from './plugins/audit/audit-hook.js';
import { auditRoutes } from './plugins/audit/audit-routes.js';
import { authPlugin } from './plugins/auth/auth-plugin.js';
import { groupsRoutes } from './plugins/groups/groups-routes.js';
import { healthRoutes } from './plugins/health/health-routes.js';
import { meRoutes } from './plugins/me/me-routes.js';
import { modulesRoutes } from './plugins/modules/modules-routes.js';
import { openApiPlugin } from './plugins/openapi/openapi-plugin.js';
import { partnersRoutes } from './plugins/partners/partners-routes.js';
import { scaibunkerModule } from './plugins/scaibunker/scaibunker-module.js';
import { tenantsRoutes } from './plugins/tenants/tenants-routes.js';
import { permissionsRoutes } from './plugins/users/permissions-routes.js';
import { usersRoutes } from './plugins/users/users-routes.js';
import type { BunkerService } from './bunkers/bunker-service.js';
import websocket from '@fastify/websocket';
import { LINK_MAX_PAYLOAD_BYTES, LINK_SUBPROTOCOL } from '@scaibunker/link';
import { workerLinkRoute } from './workers/link-route.js';
import type { WorkerHub } from './workers/worker-hub.js';

/** What the HTTP app needs from the composition root. */
export interface AppDependencies {
  repos: Repositories;
  databaseKind: 'sqlite' | 'postgres';
  pingDatabase(): Promise<void>;
  version: string;
  mode: string;
  bodyLimitBytes: number;
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
  /** A pino logger config, or false for silence (tests). */
  logger: false | { level: string };
  /** Bunkers: placement, lifecycle and the calls to their workers. */
  bunkers: BunkerService;
  /** The worker links (workers dial in through a route of this app). */
  workers: WorkerHub;
}

/** Builds the controller's Fastify app: platform hooks first, then every feature's routes. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger === false ? false : { ...deps.logger, redact: ['req.headers.authorization'] },
    genReqId: () => newId('request'),
    bodyLimit: deps.bodyLimitBytes,
    // Client-supplied ids are not trusted: every request gets a fresh `req_` id.
    requestIdHeader: false,
    // Shutdown and the router's own refusals (a malformed URL, an over-long parameter) answer
    // through our envelope too: see the closing hook below and frameworkErrors.
    return503OnClosing: false,
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const scaiError = toScaiError(error);
      void reply.status(scaiError.status).header('x-request-id', request.id).send(errorEnvelope(scaiError, request.id));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  let closing = false;
  app.addHook('preClose', async () => { closing = true; });

  app.addSchema(ErrorEnvelope);
  installValidators(app, [ErrorEnvelope]);
  installErrorHandling(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      reply.header('connection', 'close');
      throw new ScaiError('SERVICE_UNAVAILABLE', 'The server is shutting down; retry on another replica or shortly.');
    }
  });
  // A route whose body is all optional accepts an absent body as `{}`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
  });

  await app.register(openApiPlugin, { version: deps.version });
  // WebSocket routes (worker links, shells) go through the same hooks as every other request.
  await app.register(websocket, {
    options: {
      maxPayload: LINK_MAX_PAYLOAD_BYTES,
      // Only the worker link speaks a subprotocol; other sockets negotiate none.
      handleProtocols: (protocols) => (protocols.has(LINK_SUBPROTOCOL) ? LINK_SUBPROTOCOL : false),
    },
  });
  await app.register(auditHook, { repos: deps.repos });
  await app.register(authPlugin, {
    repos: deps.repos, rateLimitPerMinute: deps.rateLimitPerMinute, authFailuresPerMinute: deps.authFailuresPerMinute,
  });

  const { repos } = deps;
  await app.register(healthRoutes, { version: deps.version, mode: deps.mode, databaseKind: deps.databaseKind, pingDatabase: deps.pingDatabase });
  await app.register(meRoutes, { repos });
  await app.register(partnersRoutes, { repos });
  await app.register(tenantsRoutes, { repos });
  await app.register(usersRoutes, { repos });
  await app.register(permissionsRoutes, { repos });
  await app.register(groupsRoutes, { repos });
  await app.register(apiKeysRoutes, { repos });
  await app.register(modulesRoutes, { repos });
  await app.register(auditRoutes, { repos });
  await app.register(scaibunkerModule, { repos, bunkers: deps.bunkers, prefix: '/v1/modules/scaibunker' });
  await app.register(workerLinkRoute, { repos, hub: deps.workers });
  await app.ready();
  return app;
}
