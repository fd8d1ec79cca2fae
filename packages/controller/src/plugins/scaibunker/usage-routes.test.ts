import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

const U = '/v1/modules/scaibunker/usage';

/** Accounting reads (the segments are written by bunker transitions; here they are laid down directly). */
describe('GET /usage', () => {
  let t: TestApp;
  let tenantId: string;
  let admin: TestClient;
  let alice: { userId: string; client: TestClient };
  let bob: { userId: string; client: TestClient };
  let outsider: TestClient;
  const hour = Date.UTC(2026, 10, 2, 12);

  async function segment(tenant: string, userId: string, state: 'running' | 'paused', fromMs: number, toMs: number | null, memoryMb = 100): Promise<string> {
    const bunkerId = newId('bunker');
    const at = new Date(fromMs).toISOString();
    await t.db.insertInto('bunkers').values({
      id: bunkerId, tenant_id: tenant, owner_user_id: userId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral', network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null,
      cpu_millicores: 1000, memory_mb: memoryMb, disk_mb: 1000, gpu_count: 0, gpu_type: null, max_lifetime_s: null, idle_timeout_s: null,
      session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}', status: toMs === null ? state : 'terminated', failure_reason: null,
      worker_id: null, created_at: at, updated_at: at, started_at: at, last_activity_at: at, ended_at: toMs === null ? null : new Date(toMs).toISOString(),
    }).execute();
    await t.db.insertInto('usage_segments').values({
      bunker_id: bunkerId, tenant_id: tenant, user_id: userId, state, started_at: at, ended_at: toMs === null ? null : new Date(toMs).toISOString(),
      cpu_millicores: 1000, memory_mb: memoryMb, disk_mb: 1000, gpu_count: 0,
    }).execute();
    return bunkerId;
  }

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('usage-a');
    const otherTenant = await t.createTenant('usage-b');
    admin = (await t.createUser(tenantId, 'tenant_admin')).client;
    alice = await t.createUser(tenantId, 'tenant_user');
    bob = await t.createUser(tenantId, 'tenant_user');
    outsider = (await t.createUser(otherTenant, 'tenant_admin')).client;
    await segment(tenantId, alice.userId, 'running', hour, hour + 60_000);
    await segment(tenantId, alice.userId, 'paused', hour + 60_000, hour + 90_000);
    await segment(tenantId, bob.userId, 'running', hour, hour + 10_000, 200);
    await segment(otherTenant, (await t.createUser(otherTenant, 'tenant_user')).userId, 'running', hour, hour + 5000);
  });
  afterAll(async () => { await t.close(); });

  const period = `from=${new Date(hour - 1000).toISOString()}&to=${new Date(hour + 3_600_000).toISOString()}`;

  it('rolls a tenant up per user for its administrators, running and paused apart', async () => {
    const report = (await admin.get(`${U}?${period}&group_by=user`)).body.data;
    expect(report.group_by).toBe('user');
    const byUser = Object.fromEntries(report.rows.map((r: { user_id: string }) => [r.user_id, r]));
    expect(Object.keys(byUser).sort()).toEqual([alice.userId, bob.userId].sort());
    expect(byUser[alice.userId]).toMatchObject({ tenant_id: tenantId, running: { seconds: 60, memory_mb_seconds: 6000, cpu_millicore_seconds: 60_000 }, paused: { seconds: 30, memory_mb_seconds: 3000 } });
    expect(byUser[bob.userId].running).toMatchObject({ seconds: 10, memory_mb_seconds: 2000 });
    const tenant = (await admin.get(`${U}?${period}&group_by=tenant`)).body.data.rows;
    expect(tenant).toEqual([{ tenant_id: tenantId, running: expect.objectContaining({ seconds: 70 }), paused: expect.objectContaining({ seconds: 30 }) }]);
  });

  it('shows a plain user their own usage only; another tenant’s answers 404', async () => {
    const own = (await alice.client.get(`${U}?${period}`)).body.data.rows;
    expect(own).toHaveLength(2);
    expect(own.every((r: { user_id: string }) => r.user_id === alice.userId)).toBe(true);
    expect((await alice.client.get(`${U}?${period}&user_id=${bob.userId}`)).statusCode).toBe(404);
    expect((await outsider.get(`${U}?${period}&tenant_id=${tenantId}`)).statusCode).toBe(404);
  });

  it('refuses a period that ends before it starts', async () => {
    const bad = await admin.get(`${U}?from=${new Date(hour).toISOString()}&to=${new Date(hour - 1).toISOString()}`);
    expect(bad.statusCode).toBe(422);
    expect(bad.body.error.details[0].field).toBe('from');
  });
});
