import { describe, expect, it } from 'vitest';
import { applicableProfiles, bucketsOf, checkQuota, usageOf, type QuotaAssignment, type QuotaProfile, type QuotaUsage } from './quota-policy.js';

const uncapped = {
  maxConcurrentBunkers: null, maxPersistentBunkers: null, maxCpuMillicores: null, maxMemoryMb: null, maxDiskMb: null, maxGpuCount: null,
  perBunkerMaxCpu: null, perBunkerMaxMemory: null, perBunkerMaxDisk: null, perBunkerMaxGpu: null,
};
const profile = (id: string, caps: Partial<QuotaProfile> = {}, tenantId: string | null = 't1'): QuotaProfile => ({ ...uncapped, id, name: id, tenantId, ...caps });
const assign = (id: string, profileId: string, targetKind: 'user' | 'group', targetId: string, mode: QuotaAssignment['mode']): QuotaAssignment => ({ id, profileId, targetKind, targetId, mode });
const small = usageOf({ cpuMillicores: 1000, memoryMb: 512, diskMb: 1024, gpuCount: 0, persistent: false });
const usage = (u: Partial<QuotaUsage>): QuotaUsage => ({ bunkers: 0, persistentBunkers: 0, cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0, ...u });

describe('quota policy', () => {
  const profiles = new Map([['p-user', profile('p-user')], ['p-shared', profile('p-shared')], ['p-per-user', profile('p-per-user')], ['default', profile('default', {}, null)]]);

  it('maps assignments to buckets: individual and per_user to the user, shared to the group', () => {
    const applicable = applicableProfiles('u1', new Set(['g-outer', 'g-inner']), [
      assign('a1', 'p-user', 'user', 'u1', 'individual'),
      assign('a2', 'p-shared', 'group', 'g-outer', 'shared'),
      assign('a3', 'p-per-user', 'group', 'g-inner', 'per_user'),
      assign('a4', 'p-user', 'user', 'someone-else', 'individual'),
      assign('a5', 'p-shared', 'group', 'g-not-mine', 'shared'),
    ], profiles);
    expect(applicable.map((a) => [a.profile.id, a.bucket])).toEqual([['p-user', 'user:u1'], ['p-shared', 'group:g-outer'], ['p-per-user', 'user:u1']]);
    expect(bucketsOf(applicable)).toEqual(['user:u1', 'group:g-outer']);
  });

  it('falls back to the platform default profile only when no assignment applies', () => {
    expect(applicableProfiles('u1', new Set(), [], profiles).map((a) => [a.profile.id, a.bucket, a.assignment])).toEqual([['default', 'user:u1', null]]);
    const withoutDefault = new Map([...profiles].filter(([id]) => id !== 'default'));
    expect(applicableProfiles('u1', new Set(), [], withoutDefault)).toEqual([]);
  });

  it('holds a bunker to the tighter cap of every applicable profile, per resource', () => {
    const shared = profile('shared', { maxCpuMillicores: 8000, maxMemoryMb: 1024 });
    const perUser = profile('per-user', { maxCpuMillicores: 2000, maxMemoryMb: 8192 });
    const applicable = [{ profile: shared, bucket: 'group:g', assignment: null }, { profile: perUser, bucket: 'user:u', assignment: null }];
    // memory: the shared profile is tighter; cpu: the per-user one.
    expect(checkQuota(small, applicable, new Map([['group:g', usage({ memoryMb: 600 })]]))).toMatchObject({ profile: { id: 'shared' }, bucket: 'group:g', resource: 'memory_mb', scope: 'total', cap: 1024, current: 600, requested: 512 });
    expect(checkQuota(small, applicable, new Map([['user:u', usage({ cpuMillicores: 1500 })]]))).toMatchObject({ profile: { id: 'per-user' }, bucket: 'user:u', resource: 'cpu_millicores', cap: 2000 });
    expect(checkQuota(small, applicable, new Map([['group:g', usage({ memoryMb: 512 })], ['user:u', usage({ cpuMillicores: 1000 })]]))).toBeNull();
  });

  it('checks per-bunker caps and platform ceilings before totals', () => {
    const capped = [{ profile: profile('p', { perBunkerMaxMemory: 256, maxConcurrentBunkers: 0 }), bucket: 'user:u', assignment: null }];
    expect(checkQuota(small, capped, new Map())).toMatchObject({ resource: 'memory_mb', scope: 'per_bunker', cap: 256, requested: 512 });
    expect(checkQuota(small, capped, new Map(), { perBunkerMaxCpu: 500 })).toMatchObject({ profile: null, bucket: null, resource: 'cpu_millicores', scope: 'per_bunker', cap: 500 });
  });

  it('counts concurrent and persistent bunkers; a persistent cap leaves other bunkers alone', () => {
    const p = [{ profile: profile('p', { maxConcurrentBunkers: 5, maxPersistentBunkers: 1 }), bucket: 'user:u', assignment: null }];
    const full = new Map([['user:u', usage({ bunkers: 4, persistentBunkers: 1 })]]);
    expect(checkQuota(small, p, full)).toBeNull();
    expect(checkQuota(usageOf({ cpuMillicores: 1, memoryMb: 1, diskMb: 1, gpuCount: 0, persistent: true }), p, full)).toMatchObject({ resource: 'persistent_bunkers', cap: 1, current: 1 });
    expect(checkQuota(small, p, new Map([['user:u', usage({ bunkers: 5 })]]))).toMatchObject({ resource: 'bunkers', cap: 5, current: 5, requested: 1 });
  });
});
