import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Holds, until the transaction ends, the lock that serialises placements, quota charges and
 * the rebuild of the quota counters across controllers: an advisory lock on PostgreSQL.
 * SQLite needs none: its one writer serialises write transactions already.
 */
export async function holdPlacementLock(trx: Kysely<Database>, kind: 'sqlite' | 'postgres'): Promise<void> {
  if (kind === 'postgres') await sql`select pg_advisory_xact_lock(hashtext('scaibunker.placement'))`.execute(trx);
}
