import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

describe('groups', () => {
  let t: TestApp;
  let admin: TestClient;
  let tenantId: string;
  const group = async (name: string) => (await admin.post('/v1/groups', { name })).body.data.id as string;

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('groups');
    admin = (await t.createUser(tenantId, 'tenant_admin')).client;
  });
  afterAll(async () => { await t.close(); });

  it('nests groups and holds users', async () => {
    const parent = await group('engineering');
    const child = await group('platform-team');
    const { userId } = await t.createUser(tenantId, 'tenant_user');
    expect((await admin.post(`/v1/groups/${child}/members`, { user_id: userId })).statusCode).toBe(200);
    const nested = await admin.post(`/v1/groups/${parent}/members`, { group_id: child });
    expect(nested.body.data).toMatchObject({ id: parent, member_group_ids: [child], member_user_ids: [] });
    expect((await admin.get(`/v1/groups/${child}`)).body.data.member_user_ids).toEqual([userId]);
    const removed = await admin.delete(`/v1/groups/${parent}/members/${child}`);
    expect(removed.body.data.member_group_ids).toEqual([]);
  });

  it('refuses a cycle of any length with CONFLICT, and stores nothing', async () => {
    const a = await group('cycle-a');
    const b = await group('cycle-b');
    const c = await group('cycle-c');
    expect((await admin.post(`/v1/groups/${a}/members`, { group_id: a })).body.error.code).toBe('CONFLICT');
    await admin.post(`/v1/groups/${a}/members`, { group_id: b });
    await admin.post(`/v1/groups/${b}/members`, { group_id: c });
    const closing = await admin.post(`/v1/groups/${c}/members`, { group_id: a });
    expect(closing.statusCode).toBe(409);
    expect(closing.body.error.details[0].field).toBe('group_id');
    expect((await admin.get(`/v1/groups/${c}`)).body.data.member_group_ids).toEqual([]);
  });

  it('never lets two concurrent nestings close a cycle together', async () => {
    const x = await group('race-x');
    const y = await group('race-y');
    const [one, two] = await Promise.all([
      admin.post(`/v1/groups/${x}/members`, { group_id: y }),
      admin.post(`/v1/groups/${y}/members`, { group_id: x }),
    ]);
    expect([one.statusCode, two.statusCode].sort()).toEqual([200, 409]);
  });

  it('answers NOT_FOUND for members or groups of another tenant', async () => {
    const mine = await group('mine');
    const otherTenant = await t.createTenant('groups-other');
    const other = await t.createUser(otherTenant, 'tenant_admin');
    const theirs = (await other.client.post('/v1/groups', { name: 'theirs' })).body.data.id;
    expect((await admin.post(`/v1/groups/${mine}/members`, { user_id: other.userId })).statusCode).toBe(404);
    expect((await admin.post(`/v1/groups/${mine}/members`, { group_id: theirs })).statusCode).toBe(404);
    expect((await admin.get(`/v1/groups/${theirs}`)).statusCode).toBe(404);
    expect((await admin.delete(`/v1/groups/${theirs}`)).statusCode).toBe(404);
  });

  it('lets tenant members read groups but only admins change them', async () => {
    const { client } = await t.createUser(tenantId, 'tenant_user');
    expect((await client.get('/v1/groups')).body.data.length).toBeGreaterThan(0);
    expect((await client.post('/v1/groups', { name: 'nope' })).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
  });

  it('refuses a member body with both or neither of user_id and group_id', async () => {
    const g = await group('shape');
    expect((await admin.post(`/v1/groups/${g}/members`, {})).statusCode).toBe(422);
    const both = await admin.post(`/v1/groups/${g}/members`, { user_id: 'usr_00000000000000000000000000', group_id: g });
    expect(both.statusCode).toBe(422);
  });
});
