import type { Kysely } from 'kysely';

/**
 * Quota profiles (spec §5), their assignments (at most one per target), and what each bunker
 * is charged to: one row per bucket, released (never deleted) when the bunker ends. A
 * bucket's usage is the sum of its unreleased charges, so it cannot drift from the bunkers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('quota_profiles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('max_concurrent_bunkers', 'integer')
    .addColumn('max_persistent_bunkers', 'integer')
    .addColumn('max_cpu_millicores', 'integer')
    .addColumn('max_memory_mb', 'integer')
    .addColumn('max_disk_mb', 'integer')
    .addColumn('max_gpu_count', 'integer')
    .addColumn('per_bunker_max_cpu', 'integer')
    .addColumn('per_bunker_max_memory', 'integer')
    .addColumn('per_bunker_max_disk', 'integer')
    .addColumn('per_bunker_max_gpu', 'integer')
    // '' for platform profiles: unique names per tenant, and among platform profiles.
    .addColumn('scope_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('quota_profiles_name', ['scope_key', 'name'])
    .execute();

  await db.schema
    .createTable('quota_assignments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('profile_id', 'text', (c) => c.notNull().references('quota_profiles.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('target_kind', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('quota_assignments_target', ['target_kind', 'target_id'])
    .execute();
  await db.schema.createIndex('quota_assignments_profile').on('quota_assignments').columns(['profile_id', 'id']).execute();

  await db.schema
    .createTable('quota_charges')
    .addColumn('bunker_id', 'text', (c) => c.notNull().references('bunkers.id').onDelete('cascade'))
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('bunkers', 'integer', (c) => c.notNull())
    .addColumn('persistent_bunkers', 'integer', (c) => c.notNull())
    .addColumn('cpu_millicores', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('disk_mb', 'integer', (c) => c.notNull())
    .addColumn('gpu_count', 'integer', (c) => c.notNull())
    .addColumn('charged_at', 'text', (c) => c.notNull())
    .addColumn('released_at', 'text')
    .addPrimaryKeyConstraint('quota_charges_pk', ['bunker_id', 'bucket'])
    .execute();
  await db.schema.createIndex('quota_charges_bucket').on('quota_charges').columns(['bucket', 'released_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['quota_charges', 'quota_assignments', 'quota_profiles']) await db.schema.dropTable(table).execute();
}
