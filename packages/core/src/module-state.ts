/** A stored enable/disable decision for one module at one scope. */
export interface ModuleSetting {
  scope: 'partner' | 'tenant';
  enabled: boolean;
}

/** The effective state of a module for a tenant. */
export interface EffectiveModuleState {
  enabled: boolean;
  disabledBy: 'partner' | 'tenant' | null;
}

/**
 * Resolves a module's state for a tenant from the settings at its partner and tenant scope:
 * the most restrictive wins (a partner disable beats a tenant enable); no setting means enabled.
 */
export function resolveModuleState(settings: readonly ModuleSetting[]): EffectiveModuleState {
  if (settings.some((s) => s.scope === 'partner' && !s.enabled)) return { enabled: false, disabledBy: 'partner' };
  if (settings.some((s) => s.scope === 'tenant' && !s.enabled)) return { enabled: false, disabledBy: 'tenant' };
  return { enabled: true, disabledBy: null };
}

/**
 * Merges a config patch into stored config: keys set to null fall back to the default,
 * other keys replace their value, keys not in the patch are kept.
 */
export function mergeModuleConfig<T extends Record<string, unknown>>(
  stored: Partial<T>,
  patch: { [K in keyof T]?: T[K] | null },
): Partial<T> {
  const merged: Partial<T> = { ...stored };
  for (const [key, value] of Object.entries(patch) as [keyof T, T[keyof T] | null | undefined][]) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}
