import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

const Q = '/v1/modules/scaibunker/quota-profiles';

describe('quota profiles and assignments (API)', () => {
  let t: TestApp;
  let tenantId: string;
  let otherTenantId: string;
  let tenantAdmin: TestClient;
  let member: { userId: string; client: TestClient };
  let outsider: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('quota-a');
    otherTenantId = await t.createTenant('quota-b');
    tenantAdmin = (await t.createUser(tenantId, 'tenant_admin')).client;
    member = await t.createUser(tenantId, 'tenant_user');
    outsider = (await t.createUser(otherTenantId, 'tenant_admin')).client;
  });
  afterAll(async () => { await t.close(); });

  it('lets a tenant admin manage their tenant’s profiles; a platform profile needs admin:platform', async () => {
    const created = await tenantAdmin.post(Q, { name: 'small', max_concurrent_bunkers: 2, per_bunker_max_memory: 1024 });
    expect(created.statusCode).toBe(201);
    expect(created.body.data).toMatchObject({ tenant_id: tenantId, name: 'small', max_concurrent_bunkers: 2, per_bunker_max_memory: 1024, max_cpu_millicores: null });
    const id = created.body.data.id as string;

    const patched = await tenantAdmin.patch(`${Q}/${id}`, { max_concurrent_bunkers: 3, per_bunker_max_memory: null });
    expect(patched.body.data).toMatchObject({ max_concurrent_bunkers: 3, per_bunker_max_memory: null });
    expect((await tenantAdmin.post(Q, { name: 'small' })).body.error.code).toBe('CONFLICT');

    const platform = await tenantAdmin.post(Q, { name: 'default', tenant_id: null, max_concurrent_bunkers: 1 });
    expect(platform.statusCode).toBe(403);
    expect(platform.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    const byPlatform = await t.admin.post(Q, { name: 'platform-wide', tenant_id: null, max_memory_mb: 4096 });
    expect(byPlatform.body.data).toMatchObject({ tenant_id: null, name: 'platform-wide' });
    // Readable by tenant admins, changeable only with admin:platform.
    expect((await tenantAdmin.get(`${Q}/${byPlatform.body.data.id}`)).statusCode).toBe(200);
    expect((await tenantAdmin.patch(`${Q}/${byPlatform.body.data.id}`, { max_memory_mb: 1 })).statusCode).toBe(403);

    const listed = (await tenantAdmin.get(Q)).body.data.map((p: { name: string }) => p.name);
    expect(listed).toEqual(expect.arrayContaining(['small', 'platform-wide']));
  });

  it('hides another tenant’s profiles (404) and refuses plain users', async () => {
    const mine = (await tenantAdmin.post(Q, { name: 'private' })).body.data.id as string;
    for (const response of [await outsider.get(`${Q}/${mine}`), await outsider.patch(`${Q}/${mine}`, { max_disk_mb: 1 }), await outsider.delete(`${Q}/${mine}`)]) {
      expect(response.statusCode).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await outsider.get(Q)).body.data.map((p: { name: string }) => p.name)).not.toContain('private');
    expect((await member.client.post(Q, { name: 'mine' })).statusCode).toBe(403);
    expect((await member.client.get(`${Q}/${mine}`)).statusCode).toBe(404);
  });

  it('validates bodies: unknown fields, negative caps, wrong modes, foreign targets', async () => {
    const bad = await tenantAdmin.post(Q, { name: 'x', max_cpu_millicores: -1, colour: 'red' });
    expect(bad.statusCode).toBe(422);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect(bad.body.error.details.length).toBeGreaterThan(0);
    const id = (await tenantAdmin.post(Q, { name: 'assignable' })).body.data.id as string;
    const wrongMode = await tenantAdmin.post(`${Q}/${id}/assignments`, { target_kind: 'user', target_id: member.userId, mode: 'shared' });
    expect(wrongMode.statusCode).toBe(422);
    expect(wrongMode.body.error.details[0].field).toBe('mode');
    const foreignUser = (await t.createUser(otherTenantId, 'tenant_user')).userId;
    expect((await tenantAdmin.post(`${Q}/${id}/assignments`, { target_kind: 'user', target_id: foreignUser })).statusCode).toBe(404);
    expect((await tenantAdmin.post(`${Q}/${id}/assignments`, { target_kind: 'group', target_id: newId('group') })).statusCode).toBe(404);
  });

  it('assigns at most one profile per target, and reports the caller’s usage against each applicable profile', async () => {
    const user = await t.createUser(tenantId, 'tenant_user');
    const team = (await tenantAdmin.post('/v1/groups', { name: 'quota-team' })).body.data.id as string;
    await tenantAdmin.post(`/v1/groups/${team}/members`, { user_id: user.userId });
    const individual = (await tenantAdmin.post(Q, { name: 'individual', max_concurrent_bunkers: 4, max_memory_mb: 2048 })).body.data.id as string;
    const shared = (await tenantAdmin.post(Q, { name: 'team-pool', max_cpu_millicores: 8000 })).body.data.id as string;
    const first = await tenantAdmin.post(`${Q}/${individual}/assignments`, { target_kind: 'user', target_id: user.userId });
    expect(first.statusCode).toBe(201);
    expect(first.body.data).toMatchObject({ profile_id: individual, target_kind: 'user', mode: 'individual' });
    expect((await tenantAdmin.post(`${Q}/${shared}/assignments`, { target_kind: 'user', target_id: user.userId })).statusCode).toBe(409);
    expect((await tenantAdmin.post(`${Q}/${shared}/assignments`, { target_kind: 'group', target_id: team })).body.data.mode).toBe('shared');

    const usage = await user.client.get(`${Q}/usage`);
    expect(usage.statusCode).toBe(200);
    const rows = usage.body.data as { profile_name: string; bucket: string; usage: Record<string, number>; cap: Record<string, number | null>; headroom: Record<string, number | null> }[];
    expect(rows.map((r) => [r.profile_name, r.bucket]).sort()).toEqual([['individual', `user:${user.userId}`], ['team-pool', `group:${team}`]]);
    const mine = rows.find((r) => r.profile_name === 'individual')!;
    expect(mine.usage).toEqual({ bunkers: 0, persistent_bunkers: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0, gpu_count: 0 });
    expect(mine.cap).toMatchObject({ bunkers: 4, memory_mb: 2048, cpu_millicores: null });
    expect(mine.headroom).toMatchObject({ bunkers: 4, memory_mb: 2048, cpu_millicores: null });

    // Administrators read anyone's in their tenant; the user reads only their own.
    expect((await tenantAdmin.get(`${Q}/usage?user_id=${user.userId}`)).body.data).toHaveLength(2);
    expect((await member.client.get(`${Q}/usage?user_id=${user.userId}`)).statusCode).toBe(403);
    expect((await outsider.get(`${Q}/usage?user_id=${user.userId}`)).statusCode).toBe(404);

    const assignments = await tenantAdmin.get(`${Q}/${individual}/assignments`);
    expect(assignments.body.data).toHaveLength(1);
    expect((await tenantAdmin.delete(`${Q}/${individual}/assignments/${first.body.data.id}`)).statusCode).toBe(200);
    expect((await tenantAdmin.get(`${Q}/${individual}/assignments`)).body.data).toHaveLength(0);
  });

  it('audits every change', async () => {
    const id = (await tenantAdmin.post(Q, { name: 'audited' })).body.data.id as string;
    await tenantAdmin.delete(`${Q}/${id}`);
    const actions = (await tenantAdmin.get('/v1/audit?limit=200')).body.data.map((r: { action: string; target_id: string }) => `${r.action}:${r.target_id}`);
    expect(actions).toEqual(expect.arrayContaining([`quota.profile.create:${id}`, `quota.profile.delete:${id}`]));
    // Rows of a platform administrator acting in this tenant belong to it.
    const other = (await t.admin.post(Q, { name: 'by-platform', tenant_id: tenantId })).body.data.id as string;
    const row = (await t.admin.get('/v1/audit?limit=200')).body.data.find((r: { action: string; target_id: string }) => r.action === 'quota.profile.create' && r.target_id === other);
    expect(row).toMatchObject({ tenant_id: tenantId });
    const tenant = await t.db.selectFrom('tenants').select('partner_id').where('id', '=', tenantId).executeTakeFirstOrThrow();
    const stored = await t.db.selectFrom('audit_log').select('partner_id').where('target_id', '=', other).executeTakeFirstOrThrow();
    expect(stored.partner_id).toBe(tenant.partner_id);
  });
});
