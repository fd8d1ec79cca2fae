import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { ScaiError } from '@scaibunker/contracts';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

/** Where the data lives: an SQLite file (embedded default) or a PostgreSQL server. */
export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** An open, migrated database. */
export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseConfig['kind'];
  close(): Promise<void>;
}

/** Opens the database and brings its schema to the latest migration. */
export async function openDatabase(config: DatabaseConfig): Promise<DatabaseHandle> {
  const db = new Kysely<Database>({ dialect: createDialect(config) });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, kind: config.kind, close: () => db.destroy() };
}

function createDialect(config: DatabaseConfig) {
  if (config.kind === 'postgres') {
    // A parse-time failure would otherwise surface as a hang on the first query.
    new URL(config.url);
    const pool = new pg.Pool({ connectionString: config.url, max: 10 });
    // An idle connection the server ends (a restart, a failover, an administrator) is dropped
    // by the pool and replaced on next use; unheard, its error would end the process.
    pool.on('error', () => undefined);
    return new PostgresDialect({ pool });
  }
  if (config.path !== ':memory:') mkdirSync(dirname(config.path), { recursive: true });
  const sqlite = new SqliteDatabase(config.path);
  // Owner-only: the data dir may be traversable by jailed VM processes. SQLite gives the
  // -wal and -shm files the database file's permissions.
  if (config.path !== ':memory:') chmodSync(config.path, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  return new SqliteDialect({ database: sqlite });
}

async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ScaiError('INTERNAL', `Database migration ${failed} failed.`, { cause: error });
  }
}
