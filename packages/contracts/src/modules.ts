/** Modules the platform hosts, with the config keys each accepts and their defaults. */
export const MODULE_CATALOGUE = {
  scaibunker: {
    name: 'ScaiBunker',
    description: 'Sandboxed compute: microVM bunkers with exec, files, shell, snapshots, quotas and network profiles.',
    defaultConfig: {
      default_image: 'minimal',
      default_lifecycle_mode: 'ephemeral',
      default_network_profile: 'isolated',
      egress_audit: false,
    },
  },
} as const;

/** The id of a hosted module, e.g. `scaibunker`. */
export type ModuleId = keyof typeof MODULE_CATALOGUE;

/** A module's config values, keyed by config key. */
export type ModuleConfig = Record<string, string | number | boolean>;

/** Whether a string names a hosted module. */
export function isModuleId(value: string): value is ModuleId {
  return Object.hasOwn(MODULE_CATALOGUE, value);
}
