import type { Kysely } from 'kysely';

/**
 * Transit bridges (spec §6): tenant-scoped L2 bridges, each on one worker; the transit
 * interfaces a bunker was created with (a JSON array), kept for its life like its profile;
 * and whether a worker can build bunker networks at all (placement sends networked bunkers
 * only to those that can).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('bridges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('worker_id', 'text', (c) => c.notNull().references('workers.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('bridges_tenant_name', ['tenant_id', 'name'])
    .execute();
  await db.schema.alterTable('bunkers').addColumn('interfaces', 'text').execute();
  await db.schema.alterTable('workers').addColumn('network_ready', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workers').dropColumn('network_ready').execute();
  await db.schema.alterTable('bunkers').dropColumn('interfaces').execute();
  await db.schema.dropTable('bridges').execute();
}
