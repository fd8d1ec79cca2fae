import type { Kysely } from 'kysely';

/** Workers (with the credential they dial in with), the images each has, and bunkers. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('draining', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cpu_millicores', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('memory_mb', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disk_mb', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gpu_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('gpu_type', 'text')
    .addColumn('version', 'text')
    .addColumn('accelerator', 'text')
    // Which controller process holds the worker's link right now, and since when; null = offline.
    .addColumn('session_id', 'text')
    .addColumn('connected_at', 'text')
    .addColumn('last_heartbeat_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('worker_images')
    .addColumn('worker_id', 'text', (c) => c.notNull().references('workers.id').onDelete('cascade'))
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('worker_images_pk', ['worker_id', 'image'])
    .execute();

  await db.schema
    .createTable('bunkers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('owner_user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text')
    .addColumn('image', 'text', (c) => c.notNull())
    .addColumn('lifecycle_mode', 'text', (c) => c.notNull())
    .addColumn('network_profile', 'text', (c) => c.notNull())
    .addColumn('cpu_millicores', 'integer', (c) => c.notNull())
    .addColumn('memory_mb', 'integer', (c) => c.notNull())
    .addColumn('disk_mb', 'integer', (c) => c.notNull())
    .addColumn('gpu_count', 'integer', (c) => c.notNull())
    .addColumn('gpu_type', 'text')
    .addColumn('max_lifetime_s', 'integer')
    .addColumn('idle_timeout_s', 'integer')
    .addColumn('session_type', 'text', (c) => c.notNull())
    .addColumn('session_ref', 'text')
    .addColumn('label_set', 'text', (c) => c.notNull())
    .addColumn('env_vars', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('worker_id', 'text', (c) => c.references('workers.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text')
    .addColumn('last_activity_at', 'text', (c) => c.notNull())
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('bunkers_tenant').on('bunkers').columns(['tenant_id', 'id']).execute();
  await db.schema.createIndex('bunkers_worker_status').on('bunkers').columns(['worker_id', 'status']).execute();
  await db.schema.createIndex('bunkers_status').on('bunkers').columns(['status', 'id']).execute();
}
