import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, startServer, type RunningServer } from '@scaibunker/controller';
import { createTestDatabase } from '@scaibunker/db/testing';
import { LocalObjectStore } from '@scaibunker/storage';
import { BunkerNetworks, DEFAULT_CACHE_DIR, parseResolver, VmRuntime, WorkerDaemon, type WorkerDaemonOptions } from '@scaibunker/worker';

/** An API answer: its status and its envelope. */
export interface Answer {
  status: number;
  // The envelope's data is whatever the route answers; tests read it as they expect it.
  body: { status: string; data?: any; error?: { code: string; message: string; details?: { field: string; message: string }[] } };
}

/** A controller in this process, on the suite's database, with real workers dialing it. */
export interface Platform {
  server: RunningServer;
  dataDir: string;
  adminKey: string;
  /** Calls the API as the admin (or `key`); a path not under `/v1/` is the scaibunker module's. */
  call(method: string, path: string, body?: unknown, key?: string): Promise<Answer>;
  /**
   * Starts a worker daemon on a runtime of its own (under `<dataDir>/<name>`): the local worker,
   * or with `token` one registered through the API. Stopped by `close`.
   */
  startWorker(name: string, options?: Partial<Pick<WorkerDaemonOptions, 'token' | 'cpuMillicores' | 'memoryMb' | 'diskMb' | 'warmPool'>> & { network?: WorkerNetwork }): Promise<WorkerDaemon>;
  close(): Promise<void>;
}

const quiet = { info: () => undefined, warn: () => undefined };

/** Bunker networking for a test's worker: always through an uplink namespace the test made (see fake-internet.ts). */
export interface WorkerNetwork {
  uplinkNetns: string;
  resolver: string;
  /** What the registry profile reaches (default: the real registries, unreachable in a test). */
  registries?: string[];
}

/** Starts the controller (`env` as SCAIBUNKER_* variables) on a fresh database of the suite's kind. */
export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-e2e-'));
  const server = await startServer({ ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent', ...env }), database: database.config });
  const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  const daemons: WorkerDaemon[] = [];
  return {
    server, dataDir, adminKey,
    async call(method, path, body, key = adminKey) {
      const response = await fetch(`${server.url}${path.startsWith('/v1/') ? path : `/v1/modules/scaibunker${path}`}`, {
        method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Answer['body'] };
    },
    async startWorker(name, { network, ...options } = {}) {
      const runtime = await VmRuntime.open({ dataDir: join(dataDir, name), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
      const networks = network && await BunkerNetworks.open({ stateDir: join(dataDir, name, 'network'), uplinkNetns: network.uplinkNetns, dnsUpstream: parseResolver(network.resolver), registries: network.registries,
        // The controller's store (as in mode all), written every half second.
        auditStore: new LocalObjectStore(join(dataDir, 'objects')), auditFlushMs: 500 });
      const daemon = new WorkerDaemon({ controllerUrl: server.url, runtime, version: 'test', log: quiet, ...options, ...(networks ? { networks } : {}), token: options.token ?? await server.localWorkerToken() });
      await daemon.start();
      daemons.push(daemon);
      return daemon;
    },
    async close() {
      for (const daemon of daemons) await daemon.stop().catch(() => undefined);
      await server.close();
      await database.close();
    },
  };
}
