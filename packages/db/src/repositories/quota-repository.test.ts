import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { addQuotaProfile, addTenantUser, openSeededDatabase, SMALL_BUNKER, smallBunkerRow } from '../testing/index.js';
import type { Repositories } from './index.js';
import type { QuotaProfileRow } from './quota-repository.js';

/** Quota charging against the real database: exact under concurrency, released when bunkers end. */
describe('quota charges', () => {
  let handle: Awaited<ReturnType<typeof openSeededDatabase>>['handle'];
  let repos: Repositories;
  let tenantId: string;
  const at = () => new Date().toISOString();

  beforeAll(async () => {
    ({ handle, repos, tenantId } = await openSeededDatabase('qt'));
  });
  afterAll(async () => { await handle?.close(); });

  const user = () => addTenantUser(repos, tenantId);
  const profile = (name: string, caps: Partial<QuotaProfileRow>, platform = false) => addQuotaProfile(repos, platform ? null : tenantId, name, caps);

  async function create(owner: string) {
    const row = smallBunkerRow(tenantId, owner);
    const quota = { applicable: await repos.quotas.applicableFor(owner, tenantId), usage: SMALL_BUNKER.usage, ceilings: {} };
    return { row, result: await repos.bunkers.place(row, SMALL_BUNKER.request, quota) };
  }

  it('lets exactly 5 of 50 concurrent creates through a max_concurrent_bunkers of 5, and reads 0 once they end', async () => {
    const owner = await user();
    const capped = await profile('five', { max_concurrent_bunkers: 5 });
    await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: capped.id, tenant_id: tenantId, target_kind: 'user', target_id: owner, mode: 'individual', created_at: at() });
    const results = await Promise.all(Array.from({ length: 50 }, () => create(owner)));
    const placed = results.filter((r) => r.result.ok);
    expect(placed).toHaveLength(5);
    for (const r of results.filter((x) => !x.result.ok)) expect(r.result).toMatchObject({ ok: false, code: 'BUNKER_QUOTA_EXCEEDED', refusal: { bucket: `user:${owner}`, resource: 'bunkers', cap: 5, current: 5 } });
    expect((await repos.quotas.usage([`user:${owner}`])).get(`user:${owner}`)).toMatchObject({ bunkers: 5, cpuMillicores: 500, memoryMb: 640 });

    // Ended twice over (terminated, then a late "failed"): released once, to exactly 0.
    for (const { row } of placed) await repos.bunkers.transition(row.id, ['provisioning'], 'terminated', at());
    for (const { row } of placed) await repos.bunkers.transition(row.id, ['provisioning', 'terminated'], 'failed', at());
    expect((await repos.quotas.usage([`user:${owner}`])).get(`user:${owner}`)).toEqual({ bunkers: 0, persistentBunkers: 0, cpuMillicores: 0, memoryMb: 0, diskMb: 0, gpuCount: 0 });
    expect((await create(owner)).result.ok).toBe(true);
  });

  it('holds a user in two nested groups to the tighter cap of each resource (shared and per_user)', async () => {
    const owner = await user();
    const other = await user();
    const outer = newId('group');
    const inner = newId('group');
    await repos.groups.create({ id: outer, tenant_id: tenantId, name: `outer-${outer}`, description: null, created_at: at() });
    await repos.groups.create({ id: inner, tenant_id: tenantId, name: `inner-${inner}`, description: null, created_at: at() });
    await repos.groups.addChildGroup(tenantId, outer, inner);
    await repos.groups.addUser(inner, owner);
    await repos.groups.addUser(outer, other);
    // The team (outer, shared) may use 400 MB of memory in total; each member of inner, 2 bunkers.
    const shared = await profile('team', { max_memory_mb: 400, max_concurrent_bunkers: 10 });
    const perUser = await profile('each', { max_memory_mb: 10_000, max_concurrent_bunkers: 2 });
    await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: shared.id, tenant_id: tenantId, target_kind: 'group', target_id: outer, mode: 'shared', created_at: at() });
    await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: perUser.id, tenant_id: tenantId, target_kind: 'group', target_id: inner, mode: 'per_user', created_at: at() });

    const applicable = await repos.quotas.applicableFor(owner, tenantId);
    expect(applicable.map((a) => [a.profile.name, a.bucket]).sort()).toEqual([['each', `user:${owner}`], ['team', `group:${outer}`]]);
    expect((await repos.quotas.applicableFor(other, tenantId)).map((a) => a.profile.name)).toEqual(['team']);

    expect((await create(owner)).result.ok).toBe(true); // team: 128 of 400 MB; owner: 1 of 2 bunkers
    expect((await create(owner)).result.ok).toBe(true); // 256; 2
    // The team's memory would allow a third (384 MB), the per-user bunker cap does not.
    expect((await create(owner)).result).toMatchObject({ ok: false, refusal: { profile: { name: 'each' }, bucket: `user:${owner}`, resource: 'bunkers', cap: 2, current: 2 } });
    // Another member of the outer group shares the team's memory: one more fits, then none.
    expect((await create(other)).result.ok).toBe(true); // 384
    expect((await create(other)).result).toMatchObject({ ok: false, refusal: { profile: { name: 'team' }, bucket: `group:${outer}`, resource: 'memory_mb', cap: 400, current: 384 } });
  });

  it('applies the platform default profile to users no assignment reaches, and no cap without one', async () => {
    const owner = await user();
    expect(await repos.quotas.applicableFor(owner, tenantId)).toEqual([]);
    const fallback = await profile('default', { per_bunker_max_memory: 64 }, true);
    expect((await create(owner)).result).toMatchObject({ ok: false, refusal: { profile: { id: fallback.id }, bucket: `user:${owner}`, resource: 'memory_mb', scope: 'per_bunker', cap: 64 } });
    await repos.quotas.deleteProfile(fallback.id);
  });

  it('keeps at most one assignment per target and unique profile names per scope', async () => {
    const owner = await user();
    const a = await profile('one', {});
    const b = await profile('two', {});
    await repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: a.id, tenant_id: tenantId, target_kind: 'user', target_id: owner, mode: 'individual', created_at: at() });
    await expect(repos.quotas.createAssignment({ id: newId('quotaAssignment'), profile_id: b.id, tenant_id: tenantId, target_kind: 'user', target_id: owner, mode: 'individual', created_at: at() })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(profile('one', {})).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await profile('one', {}, true)).tenant_id).toBeNull(); // the platform's own namespace
  });
});
