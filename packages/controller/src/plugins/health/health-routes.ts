import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Health, Ok } from '@scaibunker/contracts';
import { withErrors } from '../../http/route-schema.js';

export interface HealthOptions {
  version: string;
  mode: string;
  databaseKind: 'sqlite' | 'postgres';
  /** Resolves when the database answers a trivial query. */
  pingDatabase(): Promise<void>;
}

/** `GET /v1/health`: public liveness with version, mode and database kind. */
export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, options) => {
  app.get('/v1/health', {
    schema: { tags: ['platform'], summary: 'Liveness, version, mode and database kind (no auth)', security: [], response: withErrors({ 200: Ok(Health) }) },
    config: { public: true },
  }, async () => {
    const databaseUp = await options.pingDatabase().then(() => true, () => false);
    return { status: 'ok' as const, data: { status: databaseUp ? ('ok' as const) : ('degraded' as const), version: options.version, mode: options.mode, database: options.databaseKind } };
  });
};
