import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('authentication', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  function expectError(response: { statusCode: number; body: any; headers: Record<string, unknown> }, status: number, code: string) {
    expect(response.statusCode).toBe(status);
    expect(response.body.status).toBe('error');
    expect(response.body.error.code).toBe(code);
    expect(response.body.meta.request_id).toMatch(/^req_[0-9a-z]{26}$/);
    expect(response.headers['x-request-id']).toBe(response.body.meta.request_id);
  }

  it('answers AUTH_TOKEN_MISSING without a key, in the envelope with a request id', async () => {
    expectError(await t.inject({ method: 'GET', url: '/v1/me' }), 401, 'AUTH_TOKEN_MISSING');
  });

  it('answers AUTH_TOKEN_INVALID for a malformed, unknown or wrong-secret key', async () => {
    const valid = t.admin.key;
    const wrongSecret = `${valid.split('.')[0]}.${'x'.repeat(40)}`;
    for (const header of ['Bearer nonsense', 'Basic abc', `Bearer ${valid.replace(/^sgk_.{4}/, 'sgk_zzzz')}`, `Bearer ${wrongSecret}`]) {
      expectError(await t.inject({ method: 'GET', url: '/v1/me', headers: { authorization: header } }), 401, 'AUTH_TOKEN_INVALID');
    }
  });

  it('refuses a revoked key, an expired key and the key of a disabled user', async () => {
    const tenantId = await t.createTenant('auth-tenant');
    const revoked = await t.createUser(tenantId, 'tenant_user');
    const keyId = revoked.client.key.split('.')[0]!;
    expect((await revoked.client.get('/v1/me')).statusCode).toBe(200);
    expect((await t.admin.delete(`/v1/api-keys/${keyId}`)).statusCode).toBe(200);
    expectError(await revoked.client.get('/v1/me'), 401, 'AUTH_TOKEN_INVALID');

    const expiring = await t.createUser(tenantId, 'tenant_user');
    await t.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', expiring.client.key.split('.')[0]!).execute();
    expectError(await expiring.client.get('/v1/me'), 401, 'AUTH_TOKEN_INVALID');

    const disabled = await t.createUser(tenantId, 'tenant_user');
    expect((await t.admin.patch(`/v1/users/${disabled.userId}`, { disabled: true })).statusCode).toBe(200);
    expectError(await disabled.client.get('/v1/me'), 401, 'AUTH_TOKEN_INVALID');
  });

  it('tells the caller who they are: user, tenant, role and effective permissions', async () => {
    const tenantId = await t.createTenant('me-tenant');
    const { userId, client } = await t.createUser(tenantId, 'tenant_viewer');
    await t.admin.post(`/v1/users/${userId}/permissions`, { permission: 'scaibunker:files' });
    const me = await client.get('/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.body.data).toMatchObject({
      user: { id: userId, tenant_id: tenantId, role: 'tenant_viewer', disabled: false },
      tenant: { id: tenantId, slug: 'me-tenant' },
      role: 'tenant_viewer',
      api_key_id: client.key.split('.')[0],
      permissions: ['scaibunker:files'],
    });
  });

  it('answers ROUTE_NOT_FOUND in the envelope for an unknown route', async () => {
    expectError(await t.admin.get('/v1/nope'), 404, 'ROUTE_NOT_FOUND');
  });
});
