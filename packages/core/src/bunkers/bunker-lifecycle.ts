/** Where a bunker is in its life (spec §4). `terminated` and `failed` are final. */
export type BunkerStatus = 'pending' | 'provisioning' | 'running' | 'paused' | 'terminated' | 'failed';

export const BUNKER_STATUSES: readonly BunkerStatus[] = ['pending', 'provisioning', 'running', 'paused', 'terminated', 'failed'];

/** How long a bunker is meant to live; each mode needs its own permission key to create. */
export type LifecycleMode = 'ephemeral' | 'session' | 'persistent';

export const LIFECYCLE_MODES: readonly LifecycleMode[] = ['ephemeral', 'session', 'persistent'];

/** The statuses a bunker may move to from each status. */
const NEXT: Record<BunkerStatus, readonly BunkerStatus[]> = {
  pending: ['provisioning', 'terminated', 'failed'],
  provisioning: ['running', 'terminated', 'failed'],
  running: ['paused', 'terminated', 'failed'],
  paused: ['running', 'terminated', 'failed'],
  terminated: [],
  failed: [],
};

export function canTransition(from: BunkerStatus, to: BunkerStatus): boolean {
  return NEXT[from].includes(to);
}

export function isFinal(status: BunkerStatus): boolean {
  return NEXT[status].length === 0;
}

/** Whether a bunker holds a VM (and so capacity on its worker and quota in its buckets). */
export function holdsResources(status: BunkerStatus): boolean {
  return !isFinal(status);
}

/** Default `max_lifetime_s` / `idle_timeout_s` per lifecycle mode; null = no limit (spec §4, ours). */
export const LIFECYCLE_DEFAULTS: Record<LifecycleMode, { maxLifetimeS: number | null; idleTimeoutS: number | null }> = {
  ephemeral: { maxLifetimeS: 900, idleTimeoutS: 300 },
  session: { maxLifetimeS: 86_400, idleTimeoutS: 3600 },
  persistent: { maxLifetimeS: null, idleTimeoutS: null },
};

/** Why the reaper ends a bunker, or null while it may live on. */
export function expiryReason(
  bunker: { createdAtMs: number; lastActivityAtMs: number; maxLifetimeS: number | null; idleTimeoutS: number | null; status: BunkerStatus },
  nowMs: number,
): 'max_lifetime' | 'idle_timeout' | null {
  if (isFinal(bunker.status)) return null;
  if (bunker.maxLifetimeS !== null && nowMs - bunker.createdAtMs >= bunker.maxLifetimeS * 1000) return 'max_lifetime';
  // A paused bunker is idle by definition but was paused on purpose: only its lifetime runs.
  if (bunker.status === 'running' && bunker.idleTimeoutS !== null && nowMs - bunker.lastActivityAtMs >= bunker.idleTimeoutS * 1000) return 'idle_timeout';
  return null;
}
