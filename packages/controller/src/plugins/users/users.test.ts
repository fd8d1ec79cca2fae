import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('users, partners and tenants', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('refuses handing out a role wider than the caller’s own', async () => {
    const tenantId = await t.createTenant('roles');
    const { client, userId } = await t.createUser(tenantId, 'tenant_admin');
    const create = await client.post('/v1/users', { email: 'boss@x.test', display_name: 'x', role: 'partner_admin' });
    expect(create.statusCode).toBe(403);
    expect(create.body.error.details).toEqual([{ field: 'role', message: 'wider than your own role' }]);
    const self = await client.patch(`/v1/users/${userId}`, { role: 'super_admin' });
    expect(self.body.error.code).toBe('CONFLICT');
    const peer = await client.post('/v1/users', { email: 'peer@x.test', display_name: 'x', role: 'tenant_admin' });
    expect(peer.statusCode).toBe(201);
  });

  it('answers CONFLICT for a second user with the same email in a tenant', async () => {
    const tenantId = await t.createTenant('dupes');
    const body = { email: 'same@x.test', display_name: 'x', tenant_id: tenantId };
    expect((await t.admin.post('/v1/users', body)).statusCode).toBe(201);
    const again = await t.admin.post('/v1/users', { ...body, email: 'SAME@x.test' });
    expect(again.statusCode).toBe(409);
    expect(again.body.error.code).toBe('CONFLICT');
  });

  it('disabling a user revokes every key they hold', async () => {
    const tenantId = await t.createTenant('disable');
    const { userId, client } = await t.createUser(tenantId, 'tenant_user');
    await t.admin.patch(`/v1/users/${userId}`, { disabled: true });
    const keys = await t.admin.get(`/v1/api-keys?user_id=${userId}`);
    expect(keys.body.data.length).toBe(1);
    expect(keys.body.data[0].revoked_at).not.toBeNull();
    expect((await client.get('/v1/me')).statusCode).toBe(401);
  });

  it('pages through users with a cursor, each user exactly once', async () => {
    const tenantId = await t.createTenant('paging');
    for (let i = 0; i < 5; i++) await t.admin.post('/v1/users', { email: `p${i}@x.test`, display_name: 'p', tenant_id: tenantId });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await t.admin.get(`/v1/users?tenant_id=${tenantId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...response.body.data.map((u: { email: string }) => u.email));
      cursor = response.body.next_cursor;
      expect(response.body.has_more).toBe(cursor !== null);
    } while (cursor);
    expect(seen).toEqual(['p0@x.test', 'p1@x.test', 'p2@x.test', 'p3@x.test', 'p4@x.test']);
  });

  it('lets a partner admin create tenants in their partner only, and answers SLUG_CONFLICT for a taken slug', async () => {
    const partner = await t.admin.post('/v1/partners', { slug: 'reseller', name: 'Reseller' });
    expect(partner.statusCode).toBe(201);
    const partnerId = partner.body.data.id;
    const home = await t.createTenant('reseller-home', partnerId);
    const { client } = await t.createUser(home, 'partner_admin');
    const own = await client.post('/v1/tenants', { slug: 'reseller-customer', name: 'Customer' });
    expect(own.statusCode).toBe(201);
    expect(own.body.data.partner_id).toBe(partnerId);
    const me = await t.admin.get('/v1/me');
    const foreign = await client.post('/v1/tenants', { slug: 'elsewhere', name: 'x', partner_id: me.body.data.partner_id });
    expect(foreign.statusCode).toBe(404);
    const taken = await client.post('/v1/tenants', { slug: 'reseller-customer', name: 'again' });
    expect(taken.statusCode).toBe(409);
    expect(taken.body.error.code).toBe('SLUG_CONFLICT');
    expect((await client.get('/v1/tenants')).body.data.map((x: { slug: string }) => x.slug).sort()).toEqual(['reseller-customer', 'reseller-home']);
    expect((await client.post('/v1/partners', { slug: 'mine', name: 'x' })).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
  });
});
