import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('API keys', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('shows the secret once and stores only its hash', async () => {
    const created = await t.admin.post('/v1/api-keys', { name: 'ci', expires_in_s: 3600 });
    expect(created.statusCode).toBe(201);
    const { id, secret, expires_at } = created.body.data;
    expect(secret).toMatch(/^sgk_[0-9a-z]{26}\.[0-9a-z]{40}$/);
    expect(secret.startsWith(id)).toBe(true);
    expect(Date.parse(expires_at) - Date.now()).toBeGreaterThan(3500_000);
    const fetched = await t.admin.get(`/v1/api-keys/${id}`);
    expect(fetched.body.data).not.toHaveProperty('secret');
    expect(fetched.body.data).not.toHaveProperty('secret_hash');
    const row = await t.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret.split('.')[1]);
    expect((await t.as(secret).get('/v1/me')).statusCode).toBe(200);
  });

  it('revokes a key so that it stops working at once, and revoking twice keeps the first time', async () => {
    const { secret, id } = (await t.admin.post('/v1/api-keys', { name: 'short-lived' })).body.data;
    const first = await t.as(secret).delete(`/v1/api-keys/${id}`);
    expect(first.body.data.revoked_at).not.toBeNull();
    expect((await t.as(secret).get('/v1/me')).body.error.code).toBe('AUTH_TOKEN_INVALID');
    const again = await t.admin.delete(`/v1/api-keys/${id}`);
    expect(again.body.data.revoked_at).toBe(first.body.data.revoked_at);
  });

  it('refuses an expiry under a minute', async () => {
    const response = await t.admin.post('/v1/api-keys', { name: 'x', expires_in_s: 5 });
    expect(response.body.error.details).toEqual([{ field: 'expires_in_s', message: 'must be >= 60' }]);
  });

  it('refuses minting a key for a user who holds permissions the caller lacks', async () => {
    const tenantId = await t.createTenant('mint-guard');
    const adminA = await t.createUser(tenantId, 'tenant_admin');
    const adminB = await t.createUser(tenantId, 'tenant_admin');
    expect((await adminA.client.post('/v1/api-keys', { name: 'ok', user_id: adminB.userId })).statusCode).toBe(201);
    await t.admin.post(`/v1/users/${adminB.userId}/permissions`, { permission: 'scaibunker:admin' });
    const refused = await adminA.client.post('/v1/api-keys', { name: 'escalate', user_id: adminB.userId });
    expect(refused.statusCode).toBe(403);
    expect(refused.body.error.message).toContain('scaibunker:admin');
  });

  it('lets a tenant admin revoke a user’s key but not a super admin’s', async () => {
    const tenantId = await t.createTenant('keys');
    const admin = await t.createUser(tenantId, 'tenant_admin');
    const user = await t.createUser(tenantId, 'tenant_user');
    const boss = await t.createUser(tenantId, 'super_admin');
    const userKey = user.client.key.split('.')[0];
    const bossKey = boss.client.key.split('.')[0];
    expect((await admin.client.delete(`/v1/api-keys/${userKey}`)).statusCode).toBe(200);
    expect((await admin.client.delete(`/v1/api-keys/${bossKey}`)).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    expect((await boss.client.get('/v1/me')).statusCode).toBe(200);
  });
});
