import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_LINK_PATH } from '@scaibunker/contracts';
import { createTestApp, type TestApp } from '../testing/test-app.js';

describe('the worker link route', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.admin.post('/v1/modules/scaibunker/workers', { name: 'edge-1', labels: { zone: 'a' } });
    expect(created.statusCode).toBe(201);
    token = created.body.data.token;
    expect(token).toMatch(/^wrk_[0-9a-z]{26}\.[0-9a-z]{40}$/);
  });
  afterAll(async () => { await t.close(); });

  const get = (authorization?: string) => t.inject({ method: 'GET', url: WORKER_LINK_PATH, ...(authorization ? { headers: { authorization } } : {}) });

  it('refuses a missing or wrong worker credential before any handshake, in the envelope', async () => {
    expect((await get()).body.error.code).toBe('AUTH_TOKEN_MISSING');
    const wrong = await get(`Bearer ${token.slice(0, -1)}x`);
    expect([wrong.statusCode, wrong.body.error.code]).toEqual([401, 'AUTH_TOKEN_INVALID']);
    // An API key is not a worker credential.
    expect((await get(`Bearer ${t.admin.key}`)).body.error.code).toBe('AUTH_TOKEN_INVALID');
  });

  it('answers a plain GET with a valid credential UPGRADE_REQUIRED', async () => {
    const plain = await get(`Bearer ${token}`);
    expect([plain.statusCode, plain.body.error.code]).toEqual([426, 'UPGRADE_REQUIRED']);
  });

  it('shows the new worker offline until it dials in, and refuses a second worker of the same name', async () => {
    const listed = await t.admin.get('/v1/modules/scaibunker/workers');
    expect(listed.body.data).toMatchObject([{ name: 'edge-1', status: 'offline', labels: { zone: 'a' }, last_heartbeat: null }]);
    expect(listed.body.data[0].token).toBeUndefined();
    const again = await t.admin.post('/v1/modules/scaibunker/workers', { name: 'edge-1' });
    expect([again.statusCode, again.body.error.code]).toEqual([409, 'CONFLICT']);
  });
});
