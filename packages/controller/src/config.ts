import { resolve } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';
import type { DatabaseConfig } from '@scaibunker/db';

/** The process roles one binary can play (ARCHITECTURE.md, "One process or many"). */
export const MODES = ['all', 'controller', 'worker', 'bunker_proxy'] as const;
export type Mode = (typeof MODES)[number];

/** Everything the controller reads from its environment, parsed once at start. */
export interface ControllerConfig {
  mode: Mode;
  dataDir: string;
  host: string;
  port: number;
  database: DatabaseConfig;
  logLevel: string;
  bodyLimitBytes: number;
  rateLimitPerMinute: number;
  authFailuresPerMinute: number;
  shutdownGraceMs: number;
  /** How often workers heartbeat, and after how long without one a worker's bunkers fail. */
  workerHeartbeatMs: number;
  workerStaleMs: number;
  /** Redis for the quota counters (`redis://…`); unset: usage is summed from the ledger. */
  redisUrl: string | undefined;
  /** Key prefix in that Redis, so deployments sharing one never share counters. */
  redisPrefix: string;
  /** The platform's per-bunker ceilings, above every quota profile (unset: none). */
  bunkerCeilings: { perBunkerMaxCpu?: number; perBunkerMaxMemory?: number; perBunkerMaxDisk?: number; perBunkerMaxGpu?: number };
}

/** Parses the environment; a bad value is a clear error naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  const dataDir = resolve(env.SCAIBUNKER_DATA_DIR ?? '.data');
  const { host, port } = parseListen(env.SCAIBUNKER_LISTEN ?? '127.0.0.1:8080');
  const mode = env.SCAIGRID_MODE ?? 'all';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw configError('SCAIGRID_MODE', `must be one of ${MODES.join(', ')}, got "${mode}"`);
  }
  const url = env.SCAIBUNKER_DATABASE_URL;
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw configError('SCAIBUNKER_DATABASE_URL', 'must be a postgres:// URL (leave it unset for the embedded SQLite)');
  }
  return {
    mode: mode as Mode,
    dataDir,
    host,
    port,
    database: url ? { kind: 'postgres', url } : { kind: 'sqlite', path: resolve(dataDir, 'scaibunker.sqlite') },
    logLevel: env.SCAIBUNKER_LOG_LEVEL ?? 'info',
    bodyLimitBytes: positiveInt(env, 'SCAIBUNKER_BODY_LIMIT_BYTES', 1024 * 1024),
    rateLimitPerMinute: positiveInt(env, 'SCAIBUNKER_RATE_LIMIT_PER_MIN', 1200),
    authFailuresPerMinute: positiveInt(env, 'SCAIBUNKER_AUTH_FAILURES_PER_MIN', 60),
    shutdownGraceMs: positiveInt(env, 'SCAIBUNKER_SHUTDOWN_GRACE_MS', 10_000),
    workerHeartbeatMs: positiveInt(env, 'SCAIBUNKER_WORKER_HEARTBEAT_MS', 5000),
    workerStaleMs: positiveInt(env, 'SCAIBUNKER_WORKER_STALE_MS', 20_000),
    redisUrl: redisUrlOf(env.SCAIBUNKER_REDIS_URL),
    redisPrefix: env.SCAIBUNKER_REDIS_PREFIX || 'scaibunker:',
    bunkerCeilings: Object.fromEntries(Object.entries({
      perBunkerMaxCpu: 'SCAIBUNKER_MAX_BUNKER_CPU_MILLICORES', perBunkerMaxMemory: 'SCAIBUNKER_MAX_BUNKER_MEMORY_MB',
      perBunkerMaxDisk: 'SCAIBUNKER_MAX_BUNKER_DISK_MB', perBunkerMaxGpu: 'SCAIBUNKER_MAX_BUNKER_GPU_COUNT',
    }).filter(([, name]) => env[name] !== undefined && env[name] !== '').map(([key, name]) => [key, positiveInt(env, name, 0)])),
  };
}

function redisUrlOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^rediss?:\/\/\S+$/.test(value)) throw configError('SCAIBUNKER_REDIS_URL', 'must be a redis:// or rediss:// URL');
  return value;
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(.*):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !match[1] || port > 65535) throw configError('SCAIBUNKER_LISTEN', `must be HOST:PORT, got "${value}"`);
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw configError(name, `must be a positive integer, got "${raw}"`);
  return value;
}

function configError(variable: string, problem: string): ScaiError {
  return new ScaiError('VALIDATION_ERROR', `Configuration: ${variable} ${problem}.`, {
    details: [{ field: variable, message: problem }],
  });
}
