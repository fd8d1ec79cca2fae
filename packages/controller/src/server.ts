import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { ScaiError } from '@scaibunker/contracts';
import { createRepositories, openDatabase, RedisQuotaCounters } from '@scaibunker/db';
import { LocalObjectStore } from '@scaibunker/storage';
import { buildApp } from './app.js';
import { bootstrapFirstStart } from './bootstrap.js';
import type { ControllerConfig } from './config.js';
import { VERSION } from './version.js';
import { ensureLocalWorker } from './workers/local-worker.js';
import { WorkerHub } from './workers/worker-hub.js';
import { BUNKER_SERVICE_DEFAULTS, BunkerService } from './bunkers/bunker-service.js';
import { BunkerReaper } from './bunkers/bunker-reaper.js';

/** A running controller. */
export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /**
   * The credential of this host's own worker (mode `all`): registers a worker named `local`
   * on first use and keeps its token in `$SCAIBUNKER_DATA_DIR/worker.token` (0600).
   */
  localWorkerToken(): Promise<string>;
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
  const counters = config.redisUrl ? await RedisQuotaCounters.connect(config.redisUrl, config.redisPrefix).catch(async (error: unknown) => {
    await database.close();
    throw new ScaiError('VALIDATION_ERROR', `SCAIBUNKER_REDIS_URL: Redis did not answer (${(error as Error).message}).`, { details: [{ field: 'SCAIBUNKER_REDIS_URL', message: 'unreachable' }] });
  }) : undefined;
  const closeStores = async () => {
    await counters?.close();
    await database.close();
  };
  const repos = createRepositories(database.db, database.kind, counters);
  // Redis counters start from the ledger, whatever happened while this controller was down.
  await repos.quotas.reconcileCounters().catch(async (error: unknown) => {
    await closeStores();
    throw error;
  });
  let app: FastifyInstance | undefined;
  const workers = new WorkerHub(repos, {
    heartbeatIntervalMs: config.workerHeartbeatMs, staleAfterMs: config.workerStaleMs, startTimeoutMs: 120_000,
    log: { info: (obj, msg) => app?.log.info(obj, msg), warn: (obj, msg) => app?.log.warn(obj, msg) },
  });
  // The embedded object store; its local worker (mode all) writes egress audit batches into it.
  const objects = new LocalObjectStore(join(config.dataDir, 'objects'));
  const bunkers = new BunkerService(repos, workers, { ...BUNKER_SERVICE_DEFAULTS, ceilings: config.bunkerCeilings, objects });
  workers.bindBunkers(bunkers);
  const reaper = new BunkerReaper(repos, bunkers, {
    intervalMs: 5000, provisioningTimeoutMs: BUNKER_SERVICE_DEFAULTS.startTimeoutMs + 60_000,
    log: { warn: (obj, msg) => app?.log.warn(obj, msg) },
  });
  try {
    app = await buildApp({
      bunkers,
      workers,
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
    const url = await app.listen({ host: config.host, port: config.port });
    const started = app;
    workers.start();
    reaper.start();
    return {
      app: started,
      url,
      localWorkerToken: () => ensureLocalWorker(repos, config.dataDir),
      close: async () => {
        const timer = setTimeout(() => started.server.closeAllConnections(), config.shutdownGraceMs);
        try {
          reaper.stop();
          await workers.close();
          await started.close();
        } finally {
          clearTimeout(timer);
          await closeStores();
        }
      },
    };
  } catch (error) {
    await workers.close();
    await app?.close();
    await closeStores();
    throw error;
  }
}
