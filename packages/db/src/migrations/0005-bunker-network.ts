import type { Kysely } from 'kysely';

/**
 * What a bunker's network was created with, beside its profile: the normalised
 * `network_allowlist` (a JSON array, for `allowlisted`), the `bandwidth_mbit` cap, and whether
 * its egress is audited (its tenant's module setting at create time). All immutable, as the
 * profile is: a worker restarted or a bunker moved gets the same network.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('bunkers').addColumn('network_allowlist', 'text').execute();
  await db.schema.alterTable('bunkers').addColumn('bandwidth_mbit', 'integer').execute();
  await db.schema.alterTable('bunkers').addColumn('egress_audit', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('bunkers').dropColumn('egress_audit').execute();
  await db.schema.alterTable('bunkers').dropColumn('bandwidth_mbit').execute();
  await db.schema.alterTable('bunkers').dropColumn('network_allowlist').execute();
}
