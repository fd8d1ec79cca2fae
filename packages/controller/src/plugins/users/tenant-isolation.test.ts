import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

/** The acceptance scenario: a tenant admin makes a user and a key; that user sees nothing of another tenant. */
describe('tenant isolation', () => {
  let t: TestApp;
  let tenantA: string;
  let tenantB: string;
  let adminA: TestClient;
  let userA: TestClient;
  let userAId: string;
  let bUserId: string;
  let bKeyId: string;

  beforeAll(async () => {
    t = await createTestApp();
    tenantA = await t.createTenant('tenant-a');
    tenantB = await t.createTenant('tenant-b');
    adminA = (await t.createUser(tenantA, 'tenant_admin')).client;
    const created = await adminA.post('/v1/users', { email: 'worker@a.test', display_name: 'Worker' });
    expect(created.statusCode).toBe(201);
    expect(created.body.data.tenant_id).toBe(tenantA);
    userAId = created.body.data.id;
    const key = await adminA.post('/v1/api-keys', { name: 'worker key', user_id: userAId });
    expect(key.statusCode).toBe(201);
    userA = t.as(key.body.data.secret);
    const b = await t.createUser(tenantB, 'tenant_admin');
    bUserId = b.userId;
    bKeyId = b.client.key.split('.')[0]!;
    await b.client.post('/v1/groups', { name: 'b-group' });
  });
  afterAll(async () => { await t.close(); });

  it('lets the new user act with the key their admin minted', async () => {
    const me = await userA.get('/v1/me');
    expect(me.body.data.user.id).toBe(userAId);
    expect(me.body.data.role).toBe('tenant_user');
  });

  it('answers NOT_FOUND, not FORBIDDEN, for another tenant’s user, key, tenant and audit', async () => {
    for (const client of [userA, adminA]) {
      for (const url of [`/v1/users/${bUserId}`, `/v1/api-keys/${bKeyId}`, `/v1/tenants/${tenantB}`, `/v1/audit?tenant_id=${tenantB}`, `/v1/users?tenant_id=${tenantB}`, `/v1/users/${bUserId}/permissions`]) {
        const response = await client.get(url);
        if (client === userA && url.startsWith('/v1/audit')) {
          expect(response.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
          continue;
        }
        expect(response.statusCode, url).toBe(404);
        expect(response.body.error.code).toBe('NOT_FOUND');
      }
      expect((await client.delete(`/v1/api-keys/${bKeyId}`)).statusCode).toBe(404);
      expect((await client.patch(`/v1/users/${bUserId}`, { display_name: 'pwned' })).statusCode).toBe(404);
    }
  });

  it('lists only the caller’s own tenant in every list', async () => {
    const users = await userA.get('/v1/users');
    expect(users.body.data.length).toBeGreaterThan(0);
    expect(users.body.data.every((u: { tenant_id: string }) => u.tenant_id === tenantA)).toBe(true);
    const tenants = await adminA.get('/v1/tenants');
    expect(tenants.body.data.map((x: { id: string }) => x.id)).toEqual([tenantA]);
    const groups = await adminA.get('/v1/groups');
    expect(groups.body.data).toEqual([]);
    const keys = await adminA.get('/v1/api-keys');
    expect(keys.body.data.every((k: { tenant_id: string }) => k.tenant_id === tenantA)).toBe(true);
    const audit = await adminA.get('/v1/audit?limit=200');
    expect(audit.body.data.length).toBeGreaterThan(0);
    expect(audit.body.data.every((a: { tenant_id: string }) => a.tenant_id === tenantA)).toBe(true);
  });

  it('shows a plain user only their own keys', async () => {
    const keys = await userA.get('/v1/api-keys');
    expect(keys.body.data.map((k: { user_id: string }) => k.user_id)).toEqual([userAId]);
  });

  it('refuses a tenant user creating users or minting keys for others', async () => {
    const create = await userA.post('/v1/users', { email: 'sneaky@a.test', display_name: 'x' });
    expect(create.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    const adminAId = (await adminA.get('/v1/me')).body.data.user.id;
    const mint = await userA.post('/v1/api-keys', { name: 'x', user_id: adminAId });
    expect(mint.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
  });

  it('refuses a tenant admin creating a user in another tenant with NOT_FOUND', async () => {
    const response = await adminA.post('/v1/users', { email: 'x@b.test', display_name: 'x', tenant_id: tenantB });
    expect(response.statusCode).toBe(404);
    expect(await t.db.selectFrom('users').select('id').where('email', '=', 'x@b.test').execute()).toEqual([]);
  });
});
