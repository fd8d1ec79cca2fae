import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { createRepositories, openDatabase } from '@scaibunker/db';
import { buildApp } from './app.js';
import { bootstrapFirstStart } from './bootstrap.js';
import type { ControllerConfig } from './config.js';
import { VERSION } from './version.js';

/** A running controller. */
export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stops taking requests, lets in-flight ones finish (up to the grace period), closes the database. */
  close(): Promise<void>;
}

/** Modes that this build can run; the others exit with a clear message. */
const BUILT_MODES = new Set(['all', 'controller']);

/** The composition root: opens the database, bootstraps first start, builds the app, listens. */
export async function startServer(config: ControllerConfig): Promise<RunningServer> {
  if (!BUILT_MODES.has(config.mode)) {
    throw new ScaiError('VALIDATION_ERROR', `SCAIGRID_MODE=${config.mode} is not built yet: this version runs "all" and "controller" only.`, {
      details: [{ field: 'SCAIGRID_MODE', message: 'not built yet' }],
    });
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = await openDatabase(config.database);
  const repos = createRepositories(database.db, database.kind);
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      repos,
      databaseKind: database.kind,
      pingDatabase: async () => { await sql`select 1`.execute(database.db); },
      version: VERSION,
      mode: config.mode,
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
      authFailuresPerMinute: config.authFailuresPerMinute,
      logger: { level: config.logLevel },
    });
    const boot = await bootstrapFirstStart(repos, config.dataDir);
    if (boot.created) app.log.warn({ path: boot.adminKeyPath }, `first start: the super admin's API key is in ${boot.adminKeyPath}`);
    if (config.mode === 'all') app.log.info('mode "all": the local worker arrives with the microVM runtime; this build serves the platform API only');
    const url = await app.listen({ host: config.host, port: config.port });
    const started = app;
    return {
      app: started,
      url,
      close: async () => {
        const timer = setTimeout(() => started.server.closeAllConnections(), config.shutdownGraceMs);
        try {
          await started.close();
        } finally {
          clearTimeout(timer);
          await database.close();
        }
      },
    };
  } catch (error) {
    await app?.close();
    await database.close();
    throw error;
  }
}
