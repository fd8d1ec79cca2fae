import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('audit log', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('records every mutating call with actor, tenant, action, target, outcome and request id', async () => {
    const tenantId = await t.createTenant('audited');
    const created = await t.admin.post('/v1/users', { email: 'aud@x.test', display_name: 'a', tenant_id: tenantId });
    const refused = await t.admin.post('/v1/users', { email: 'aud@x.test', display_name: 'a', tenant_id: tenantId });
    const log = await t.admin.get(`/v1/audit?tenant_id=${tenantId}&action=user.create`);
    expect(log.body.data).toHaveLength(2);
    const [failure, success] = log.body.data;
    const me = (await t.admin.get('/v1/me')).body.data;
    expect(success).toMatchObject({
      actor_user_id: me.user.id, actor_api_key_id: me.api_key_id, tenant_id: tenantId, action: 'user.create',
      target_kind: 'user', target_id: created.body.data.id, outcome: 'success', status_code: 201, error_code: null,
      request_id: created.headers['x-request-id'],
    });
    expect(failure).toMatchObject({ outcome: 'failure', status_code: 409, error_code: 'CONFLICT', request_id: refused.body.meta.request_id });
  });

  it('records refused unauthenticated and invalid mutating calls too, but not reads', async () => {
    const before = await t.db.selectFrom('audit_log').select('id').execute();
    await t.inject({ method: 'POST', url: '/v1/tenants', payload: { slug: 'anon', name: 'x' } });
    await t.admin.post('/v1/tenants', { slug: 'NOT A SLUG', name: 'x' });
    await t.admin.get('/v1/users');
    const rows = await t.db.selectFrom('audit_log').selectAll().where('id', 'not in', before.map((r) => r.id)).orderBy('id').execute();
    expect(rows.map((r) => [r.action, r.status_code, r.error_code, r.actor_user_id === null])).toEqual([
      ['tenant.create', 401, 'AUTH_TOKEN_MISSING', true],
      ['tenant.create', 422, 'VALIDATION_ERROR', false],
    ]);
  });

  it('files partner-level actions under no tenant, so tenant admins never read them', async () => {
    const partner = await t.admin.post('/v1/partners', { slug: 'audit-partner', name: 'P' });
    const row = await t.db.selectFrom('audit_log').selectAll().where('target_id', '=', partner.body.data.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ action: 'partner.create', tenant_id: null, partner_id: partner.body.data.id });
    const me = (await t.admin.get('/v1/me')).body.data;
    const homeAdmin = await t.createUser(me.tenant.id, 'tenant_admin');
    const visible = (await homeAdmin.client.get('/v1/audit?limit=200')).body.data.map((r: { target_id: string }) => r.target_id);
    expect(visible).not.toContain(partner.body.data.id);
  });

  it('is for admins only, scoped to what they administer', async () => {
    const tenantId = await t.createTenant('audit-scope');
    const user = await t.createUser(tenantId, 'tenant_user');
    const viewer = await t.createUser(tenantId, 'tenant_viewer');
    const admin = await t.createUser(tenantId, 'tenant_admin');
    expect((await user.client.get('/v1/audit')).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    expect((await viewer.client.get('/v1/audit')).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    await admin.client.post('/v1/groups', { name: 'g' });
    const own = await admin.client.get('/v1/audit');
    expect(own.body.data.length).toBeGreaterThan(0);
    expect(own.body.data.every((r: { tenant_id: string }) => r.tenant_id === tenantId)).toBe(true);
  });

  it('pages newest first with a cursor, each row once', async () => {
    const tenantId = await t.createTenant('audit-pages');
    for (let i = 0; i < 5; i++) await t.admin.post('/v1/users', { email: `pg${i}@x.test`, display_name: 'p', tenant_id: tenantId });
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await t.admin.get(`/v1/audit?tenant_id=${tenantId}&action=user.create&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      ids.push(...response.body.data.map((r: { target_id: string }) => r.target_id));
      cursor = response.body.next_cursor;
    } while (cursor);
    const users = (await t.admin.get(`/v1/users?tenant_id=${tenantId}`)).body.data.map((u: { id: string }) => u.id);
    expect(ids).toEqual([...users].reverse());
  });
});
