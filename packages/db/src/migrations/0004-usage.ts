import type { Kysely } from 'kysely';

/**
 * Accounting: a bunker's life as segments of one state (running or paused) with the
 * resources it held, opened and closed by the transitions themselves (in their transaction).
 * Usage over any period is the overlap of its segments with the period: exact to the
 * millisecond, with no meter to run and nothing lost across a controller restart.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_segments')
    .addColumn('bunker_id', 'text', (c) => c.notNull().references('bunkers.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .addColumn('cpu_millicores', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('disk_mb', 'integer', (c) => c.notNull())
    .addColumn('gpu_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_segments_bunker').on('usage_segments').columns(['bunker_id', 'started_at']).execute();
  await db.schema.createIndex('usage_segments_tenant').on('usage_segments').columns(['tenant_id', 'started_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_segments').execute();
}
