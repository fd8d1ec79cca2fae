/**
 * Quota profiles (spec §5) as pure rules: which profiles apply to a user, which bucket each
 * charges, and whether a new bunker fits. Storage, locking and counting live in the database
 * layer; this decides.
 */

/** A resource a profile caps. */
export type QuotaResource = 'bunkers' | 'persistent_bunkers' | 'cpu_millicores' | 'memory_mb' | 'disk_mb' | 'gpu_count';

/** Caps of one profile; null is no cap. */
export interface QuotaCaps {
  maxConcurrentBunkers: number | null;
  maxPersistentBunkers: number | null;
  maxCpuMillicores: number | null;
  maxMemoryMb: number | null;
  maxDiskMb: number | null;
  maxGpuCount: number | null;
  perBunkerMaxCpu: number | null;
  perBunkerMaxMemory: number | null;
  perBunkerMaxDisk: number | null;
  perBunkerMaxGpu: number | null;
}

export interface QuotaProfile extends QuotaCaps {
  id: string;
  name: string;
  /** null: a platform profile. */
  tenantId: string | null;
}

export type AssignmentMode = 'individual' | 'shared' | 'per_user';

export interface QuotaAssignment {
  id: string;
  profileId: string;
  targetKind: 'user' | 'group';
  targetId: string;
  mode: AssignmentMode;
}

/** What a bunker holds while it lives: one of it, and its resources. */
export interface QuotaUsage {
  bunkers: number;
  persistentBunkers: number;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  gpuCount: number;
}

export const NO_USAGE: QuotaUsage = { bunkers: 0, persistentBunkers: 0, cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0 };

/** A profile that applies to a user, and the bucket (counter) it charges. */
export interface ApplicableProfile {
  profile: QuotaProfile;
  bucket: string;
  /** How it applies: the assignment, or none for the platform default. */
  assignment: QuotaAssignment | null;
}

/** The platform default: the platform profile named this applies to users no assignment reaches. */
export const PLATFORM_DEFAULT_PROFILE = 'default';

export function userBucket(userId: string): string {
  return `user:${userId}`;
}

export function groupBucket(groupId: string): string {
  return `group:${groupId}`;
}

/**
 * The profiles that apply to a user: the user's own assignment (charged to `user:{id}`), and
 * the assignment of every group the user is a transitive member of (`shared`: the group's
 * bucket; `per_user`: the user's own); none of those → the platform default profile, if
 * there is one. Assignments to a user are `individual`; any other mode on a user is treated
 * as individual too (one bucket per user either way).
 */
export function applicableProfiles(
  userId: string,
  transitiveGroupIds: ReadonlySet<string>,
  assignments: readonly QuotaAssignment[],
  profiles: ReadonlyMap<string, QuotaProfile>,
): ApplicableProfile[] {
  const applicable: ApplicableProfile[] = [];
  for (const assignment of assignments) {
    const profile = profiles.get(assignment.profileId);
    if (!profile) continue;
    if (assignment.targetKind === 'user' && assignment.targetId === userId) {
      applicable.push({ profile, bucket: userBucket(userId), assignment });
    } else if (assignment.targetKind === 'group' && transitiveGroupIds.has(assignment.targetId)) {
      applicable.push({ profile, bucket: assignment.mode === 'shared' ? groupBucket(assignment.targetId) : userBucket(userId), assignment });
    }
  }
  if (applicable.length > 0) return applicable;
  const fallback = [...profiles.values()].find((p) => p.tenantId === null && p.name === PLATFORM_DEFAULT_PROFILE);
  return fallback ? [{ profile: fallback, bucket: userBucket(userId), assignment: null }] : [];
}

/** What a new bunker would add to each bucket it is charged to. */
export function usageOf(bunker: { cpuMillicores: number; memoryMb: number; diskMb: number; gpuCount: number; persistent: boolean }): QuotaUsage {
  return { bunkers: 1, persistentBunkers: bunker.persistent ? 1 : 0, cpuMillicores: bunker.cpuMillicores, memoryMb: bunker.memoryMb, diskMb: bunker.diskMb, gpuCount: bunker.gpuCount };
}

/** Why a bunker does not fit: the first profile, bucket and resource that refused it. */
export interface QuotaRefusal {
  profile: { id: string; name: string } | null;
  bucket: string | null;
  resource: QuotaResource;
  /** Per bunker (the bunker alone is too large) or total (the bucket would overflow). */
  scope: 'per_bunker' | 'total';
  cap: number;
  current: number;
  requested: number;
}

const PER_BUNKER: [QuotaResource, keyof QuotaCaps, keyof QuotaUsage][] = [
  ['cpu_millicores', 'perBunkerMaxCpu', 'cpuMillicores'],
  ['memory_mb', 'perBunkerMaxMemory', 'memoryMb'],
  ['disk_mb', 'perBunkerMaxDisk', 'diskMb'],
  ['gpu_count', 'perBunkerMaxGpu', 'gpuCount'],
];
const TOTAL: [QuotaResource, keyof QuotaCaps, keyof QuotaUsage][] = [
  ['bunkers', 'maxConcurrentBunkers', 'bunkers'],
  ['persistent_bunkers', 'maxPersistentBunkers', 'persistentBunkers'],
  ['cpu_millicores', 'maxCpuMillicores', 'cpuMillicores'],
  ['memory_mb', 'maxMemoryMb', 'memoryMb'],
  ['disk_mb', 'maxDiskMb', 'diskMb'],
  ['gpu_count', 'maxGpuCount', 'gpuCount'],
];

/**
 * Whether a bunker fits: the platform's per-bunker ceilings first, then every applicable
 * profile's per-bunker caps and its bucket's `current + request > cap`. Every profile must
 * pass, so the most restrictive wins; answers the first refusal, or null.
 */
export function checkQuota(
  request: QuotaUsage,
  applicable: readonly ApplicableProfile[],
  usageByBucket: ReadonlyMap<string, QuotaUsage>,
  ceilings: Partial<Pick<QuotaCaps, 'perBunkerMaxCpu' | 'perBunkerMaxMemory' | 'perBunkerMaxDisk' | 'perBunkerMaxGpu'>> = {},
): QuotaRefusal | null {
  for (const [resource, cap, used] of PER_BUNKER) {
    const limit = ceilings[cap as keyof typeof ceilings];
    if (limit !== undefined && limit !== null && request[used] > limit) {
      return { profile: null, bucket: null, resource, scope: 'per_bunker', cap: limit, current: 0, requested: request[used] };
    }
  }
  for (const { profile, bucket } of applicable) {
    for (const [resource, cap, used] of PER_BUNKER) {
      const limit = profile[cap];
      if (limit !== null && request[used] > limit) {
        return { profile: { id: profile.id, name: profile.name }, bucket, resource, scope: 'per_bunker', cap: limit, current: 0, requested: request[used] };
      }
    }
    const current = usageByBucket.get(bucket) ?? NO_USAGE;
    for (const [resource, cap, used] of TOTAL) {
      const limit = profile[cap];
      // A persistent cap only concerns persistent bunkers.
      if (limit === null || request[used] === 0) continue;
      if (current[used] + request[used] > limit) {
        return { profile: { id: profile.id, name: profile.name }, bucket, resource, scope: 'total', cap: limit, current: current[used], requested: request[used] };
      }
    }
  }
  return null;
}

/** The buckets a bunker is charged to: each distinct bucket once, whatever profiles share it. */
export function bucketsOf(applicable: readonly ApplicableProfile[]): string[] {
  return [...new Set(applicable.map((a) => a.bucket))];
}
