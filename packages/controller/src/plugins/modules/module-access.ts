import { isModuleId, MODULE_CATALOGUE, ScaiError, type ModuleId } from '@scaibunker/contracts';
import { resolveModuleState, type EffectiveModuleState } from '@scaibunker/core';
import type { Repositories } from '@scaibunker/db';

/** The module named in a path, or NOT_FOUND. */
export function knownModule(moduleId: string): ModuleId {
  if (!isModuleId(moduleId)) throw new ScaiError('NOT_FOUND', `No module "${moduleId}".`);
  return moduleId;
}

/** The module's effective state for a tenant. */
export async function moduleStateFor(repos: Repositories, moduleId: ModuleId, tenantId: string, partnerId: string): Promise<EffectiveModuleState> {
  return resolveModuleState(await repos.modules.settingsFor(moduleId, tenantId, partnerId));
}

/** The module as the API shows it to one tenant. */
export function presentModule(moduleId: ModuleId, state: EffectiveModuleState) {
  const entry = MODULE_CATALOGUE[moduleId];
  return { id: moduleId, name: entry.name, description: entry.description, enabled: state.enabled, disabled_by: state.disabledBy };
}
