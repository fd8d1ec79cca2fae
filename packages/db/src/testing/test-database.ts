import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseConfig, type DatabaseHandle } from '../database.js';

/** Which database the suite runs against: `SCAIBUNKER_TEST_DATABASE=sqlite|postgres`. */
export function testDatabaseKind(): 'sqlite' | 'postgres' {
  return process.env.SCAIBUNKER_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

/** The server the PostgreSQL run creates its throwaway databases on. */
export function testPostgresUrl(): string {
  return process.env.SCAIBUNKER_TEST_POSTGRES_URL ?? 'postgres://scaibunker:scaibunker@127.0.0.1:5432/postgres';
}

/** A fresh, migrated, empty database for one test file; `close` also deletes it. */
export async function createTestDatabase(): Promise<DatabaseHandle & { config: DatabaseConfig }> {
  if (testDatabaseKind() === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'scaibunker-test-'));
    const config: DatabaseConfig = { kind: 'sqlite', path: join(dir, 'test.sqlite') };
    const handle = await openDatabase(config);
    return { ...handle, config, close: async () => { await handle.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const adminUrl = testPostgresUrl();
  const name = `sb_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const config: DatabaseConfig = { kind: 'postgres', url: url.toString() };
  const handle = await openDatabase(config);
  return {
    ...handle,
    config,
    close: async () => {
      await handle.close();
      await withAdminClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdminClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
