import type { Migration, MigrationProvider } from 'kysely';
import * as platform from './0001-platform.js';
import * as workersBunkers from './0002-workers-bunkers.js';
import * as quotas from './0003-quotas.js';
import * as usage from './0004-usage.js';
import * as bunkerNetwork from './0005-bunker-network.js';
import * as bridges from './0006-bridges.js';

/** Every migration, in order. Names are never changed once shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-platform': platform,
  '0002-workers-bunkers': workersBunkers,
  '0003-quotas': quotas,
  '0004-usage': usage,
  '0005-bunker-network': bunkerNetwork,
  '0006-bridges': bridges,
};

/** Serves the migrations compiled into this package (no file-system scan at run time). */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
