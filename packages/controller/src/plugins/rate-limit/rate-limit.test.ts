import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ rateLimitPerMinute: 5, authFailuresPerMinute: 3 }); });
  afterAll(async () => { await t.close(); });

  it('answers RATE_LIMITED with retry_after once a key spends its budget, without touching other keys', async () => {
    // Minting a key through the repositories spends none of the admin's budget of 5.
    const { mintApiKey } = await import('@scaibunker/core');
    const minted = mintApiKey();
    const me = (await t.db.selectFrom('users').selectAll().executeTakeFirstOrThrow());
    await t.repos.apiKeys.create({
      id: minted.id, tenant_id: me.tenant_id, user_id: me.id, name: 'second', secret_hash: minted.secretHash,
      created_at: new Date().toISOString(), expires_at: null, revoked_at: null, last_used_at: null,
    });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof t.admin.get>> | undefined;
    for (let i = 0; i < 6; i++) {
      const response = await t.admin.get('/v1/me');
      statuses.push(response.statusCode);
      if (response.statusCode === 429) limited = response;
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(limited!.body.error).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), retry_after: 12 });
    expect(limited!.headers['retry-after']).toBe('12');
    expect(limited!.body.meta.request_id).toMatch(/^req_/);
    expect((await t.as(minted.secret).get('/v1/me')).statusCode).toBe(200);
  });

  it('slows down key guessing per client address', async () => {
    const bad = { authorization: `Bearer sgk_${'0'.repeat(26)}.${'0'.repeat(40)}` };
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push((await t.inject({ method: 'GET', url: '/v1/me', headers: bad })).body.error.code);
    expect(codes).toEqual(['AUTH_TOKEN_INVALID', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_INVALID', 'RATE_LIMITED', 'RATE_LIMITED']);
  });
});
