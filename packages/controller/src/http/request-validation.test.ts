import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/test-app.js';

/** Bad input of every kind answers 4xx in the envelope and leaves no row behind. */
describe('request validation', () => {
  let t: TestApp;
  let auth: { authorization: string };
  beforeAll(async () => {
    t = await createTestApp({ bodyLimitBytes: 4096 });
    auth = { authorization: `Bearer ${t.admin.key}` };
  });
  afterAll(async () => { await t.close(); });

  async function userCount(): Promise<number> {
    const row = await t.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async function send(payload: string, contentType = 'application/json') {
    return t.inject({ method: 'POST', url: '/v1/users', headers: { ...auth, 'content-type': contentType }, payload });
  }

  it('answers INVALID_JSON for malformed JSON and for an empty JSON body', async () => {
    const before = await userCount();
    for (const payload of ['{"email":', '{bad}', '']) {
      const response = await send(payload);
      expect(response.statusCode).toBe(400);
      expect(response.body.error.code).toBe('INVALID_JSON');
      expect(response.body.meta.request_id).toMatch(/^req_/);
    }
    expect(await userCount()).toBe(before);
  });

  it('answers VALIDATION_ERROR with one detail per bad field for wrong types, unknown fields and missing fields', async () => {
    const before = await userCount();
    const response = await send(JSON.stringify({ email: 42, display_name: 'x', role: 'emperor', shoe_size: 44 }));
    expect(response.statusCode).toBe(422);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.error.details).toEqual(expect.arrayContaining([
      { field: 'email', message: 'must be string' },
      { field: 'role', message: expect.stringContaining('must be one of: super_admin') },
      { field: 'shoe_size', message: 'is not a known field' },
    ]));
    const missing = await send(JSON.stringify({ display_name: 'x' }));
    expect(missing.body.error.details).toEqual([{ field: 'email', message: 'is required' }]);
    expect(await userCount()).toBe(before);
  });

  it('does not coerce body types: a numeric string is not a boolean or an integer', async () => {
    const tenantId = await t.createTenant('coerce');
    const { userId } = await t.createUser(tenantId, 'tenant_user');
    const response = await t.admin.patch(`/v1/users/${userId}`, { disabled: 'true' });
    expect(response.statusCode).toBe(422);
    expect(response.body.error.details).toEqual([{ field: 'disabled', message: 'must be boolean' }]);
    expect((await t.admin.get(`/v1/users/${userId}`)).body.data.disabled).toBe(false);
  });

  it('validates query strings and path params, naming them as such', async () => {
    const query = await t.admin.get('/v1/users?limit=0&color=red');
    expect(query.statusCode).toBe(422);
    expect(query.body.error.details).toEqual(expect.arrayContaining([
      { field: 'query.limit', message: 'must be >= 1' },
      { field: 'query.color', message: 'is not a known field' },
    ]));
    const path = await t.admin.get('/v1/users/not-an-id');
    expect(path.statusCode).toBe(422);
    expect(path.body.error.details[0].field).toBe('path.id');
  });

  it('answers PAYLOAD_TOO_LARGE for a body over the limit, and keeps serving', async () => {
    const before = await userCount();
    const response = await send(JSON.stringify({ email: 'big@x.test', display_name: 'x'.repeat(10_000) }));
    expect(response.statusCode).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await userCount()).toBe(before);
    expect((await t.admin.get('/v1/me')).statusCode).toBe(200);
  });

  it('answers UNSUPPORTED_MEDIA_TYPE for a body that is not JSON', async () => {
    const response = await send('email=a@b.c', 'application/x-www-form-urlencoded');
    expect(response.statusCode).toBe(415);
    expect(response.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a malformed URL in the envelope with a request id', async () => {
    const response = await t.admin.get('/v1/users/%zz');
    expect(response.statusCode).toBe(422);
    expect(response.body.error.code).toBe('VALIDATION_ERROR');
    expect(response.body.meta.request_id).toBe(response.headers['x-request-id']);
  });

  it('refuses control characters in names on both databases, writing nothing', async () => {
    const response = await t.admin.post('/v1/groups', { name: 'a\u0000b' });
    expect(response.statusCode).toBe(422);
    expect(response.body.error.details[0].field).toBe('name');
    expect(await t.db.selectFrom('groups').select('id').execute()).toEqual([]);
  });

  it('refuses prototype pollution attempts as invalid JSON', async () => {
    const response = await send('{"email":"p@x.test","display_name":"p","__proto__":{"admin":true}}');
    expect(response.statusCode).toBe(400);
    expect(response.body.error.code).toBe('INVALID_JSON');
  });
});
