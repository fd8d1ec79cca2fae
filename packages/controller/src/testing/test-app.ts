import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Role } from '@scaibunker/contracts';
import { createRepositories, type Database, type Repositories } from '@scaibunker/db';
import { createTestDatabase } from '@scaibunker/db/testing';
import { buildApp, type AppDependencies } from '../app.js';
import { bootstrapFirstStart } from '../bootstrap.js';
import { WorkerHub } from '../workers/worker-hub.js';
import { BUNKER_SERVICE_DEFAULTS, BunkerService } from '../bunkers/bunker-service.js';

/** A response as tests read it: status, parsed JSON body, headers. */
export interface TestResponse {
  statusCode: number;
  // Test bodies are asserted field by field; `any` keeps those assertions short.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
}

/** A caller holding one API key. */
export interface TestClient {
  key: string;
  get(url: string): Promise<TestResponse>;
  delete(url: string): Promise<TestResponse>;
  post(url: string, body?: unknown): Promise<TestResponse>;
  put(url: string, body?: unknown): Promise<TestResponse>;
  patch(url: string, body?: unknown): Promise<TestResponse>;
}

/** A controller over a fresh database with a bootstrapped super admin. */
export interface TestApp {
  app: FastifyInstance;
  /** The database itself, for asserting on stored rows. */
  db: Kysely<Database>;
  repos: Repositories;
  admin: TestClient;
  as(key: string): TestClient;
  inject(options: InjectOptions): Promise<TestResponse>;
  /** Creates a tenant (in the admin's partner unless given) and returns its id. */
  createTenant(slug: string, partnerId?: string): Promise<string>;
  /** Creates a user with a role in a tenant and returns the user id and a client with their key. */
  createUser(tenantId: string, role: Role, email?: string): Promise<{ userId: string; client: TestClient }>;
  close(): Promise<void>;
}

let counter = 0;

/** Builds a real app over a real database (SQLite or PostgreSQL, per SCAIBUNKER_TEST_DATABASE). */
export async function createTestApp(overrides: Partial<AppDependencies> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const repos = createRepositories(database.db, database.kind);
  const app = await buildApp({
    repos,
    databaseKind: database.kind,
    pingDatabase: async () => { await sql`select 1`.execute(database.db); },
    version: '0.0.0-test',
    mode: 'all',
    bodyLimitBytes: 64 * 1024,
    rateLimitPerMinute: 100_000,
    authFailuresPerMinute: 100_000,
    logger: false,
    ...withoutWorkers(repos),
    ...overrides,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-app-'));
  await bootstrapFirstStart(repos, dataDir);
  const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();

  const inject = async (options: InjectOptions): Promise<TestResponse> => {
    const response = await app.inject(options);
    let body: unknown = response.body;
    try { body = response.json(); } catch { /* not JSON: keep the text */ }
    return { statusCode: response.statusCode, body, headers: response.headers };
  };
  const as = (key: string): TestClient => {
    const send = (method: InjectOptions['method'], url: string, payload?: unknown) =>
      inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }) });
    return {
      key,
      get: (url) => send('GET', url),
      delete: (url) => send('DELETE', url),
      post: (url, body) => send('POST', url, body ?? {}),
      put: (url, body) => send('PUT', url, body ?? {}),
      patch: (url, body) => send('PATCH', url, body ?? {}),
    };
  };
  const admin = as(adminKey);

  return {
    app, db: database.db, repos, admin, as, inject,
    async createTenant(slug, partnerId) {
      const response = await admin.post('/v1/tenants', { slug, name: slug, ...(partnerId ? { partner_id: partnerId } : {}) });
      if (response.statusCode !== 201) throw new Error(`tenant create failed: ${JSON.stringify(response.body)}`);
      return response.body.data.id as string;
    },
    async createUser(tenantId, role, email = `user${++counter}@example.test`) {
      const user = await admin.post('/v1/users', { email, display_name: email, role, tenant_id: tenantId });
      if (user.statusCode !== 201) throw new Error(`user create failed: ${JSON.stringify(user.body)}`);
      const key = await admin.post('/v1/api-keys', { name: 'test', user_id: user.body.data.id });
      if (key.statusCode !== 201) throw new Error(`key create failed: ${JSON.stringify(key.body)}`);
      return { userId: user.body.data.id as string, client: as(key.body.data.secret as string) };
    },
    async close() {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A worker hub no worker has dialed, and the bunker service over it. */
function withoutWorkers(repos: Repositories): Pick<AppDependencies, 'bunkers' | 'workers'> {
  const workers = new WorkerHub(repos, { heartbeatIntervalMs: 5000, staleAfterMs: 20_000, startTimeoutMs: 120_000, log: { info: () => undefined, warn: () => undefined } });
  return { workers, bunkers: new BunkerService(repos, workers, BUNKER_SERVICE_DEFAULTS) };
}
