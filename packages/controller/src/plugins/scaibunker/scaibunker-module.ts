import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ModulePermission, Ok, PERMISSION_CATALOGUE, PERMISSION_KEYS, ScaiError } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import { ok } from '../../http/envelope.js';
import { actorOf } from '../../http/request-context.js';
import { withErrors } from '../../http/route-schema.js';
import { moduleStateFor } from '../modules/module-access.js';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { bunkersRoutes } from './bunkers-routes.js';
import { workersRoutes } from './workers-routes.js';
import { quotaRoutes } from './quota-routes.js';
import { usageRoutes } from './usage-routes.js';
import { filesRoutes } from './files-routes.js';
import { processesRoutes } from './processes-routes.js';
import { networkRoutes } from './network-routes.js';
import { bridgesRoutes } from './bridges-routes.js';
import { BridgeService } from '../../bunkers/bridge-service.js';
import { shellRoute } from './shell-route.js';

/**
 * The `scaibunker` module, mounted at `/v1/modules/scaibunker`. Every route here answers
 * MODULE_NOT_ENABLED while the module is disabled for the caller's tenant or partner; the
 * module's data stays.
 */
export const scaibunkerModule: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  app.addHook('preHandler', async (request) => {
    const actor = actorOf(request);
    const state = await moduleStateFor(repos, 'scaibunker', actor.tenantId, actor.partnerId);
    if (!state.enabled) {
      throw new ScaiError('MODULE_NOT_ENABLED', `The scaibunker module is disabled for your ${state.disabledBy}.`);
    }
  });

  app.get('/permissions', {
    schema: {
      tags: ['scaibunker'], summary: 'The module’s permission keys and which of them the caller holds',
      response: withErrors({ 200: Ok(Type.Array(ModulePermission)) }),
    },
  }, async (request) => {
    const actor = actorOf(request);
    return ok(PERMISSION_KEYS.map((key) => ({ key, grants: PERMISSION_CATALOGUE[key], held: actor.permissions.has(key) })));
  });

  await app.register(bunkersRoutes, { repos, bunkers });
  await app.register(workersRoutes, { repos });
  await app.register(quotaRoutes, { repos });
  await app.register(usageRoutes, { repos });
  await app.register(filesRoutes, { repos, bunkers });
  await app.register(processesRoutes, { repos, bunkers });
  await app.register(networkRoutes, { repos, bunkers });
  await app.register(bridgesRoutes, { bridges: new BridgeService(repos, bunkers.gateway) });
  await app.register(shellRoute, { repos, bunkers });
};
