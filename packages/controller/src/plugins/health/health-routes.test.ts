import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKind } from '@scaibunker/db/testing';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

describe('GET /v1/health', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('answers without a key with status, version, mode and database kind', async () => {
    const response = await t.inject({ method: 'GET', url: '/v1/health' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      status: 'ok',
      data: { status: 'ok', version: '0.0.0-test', mode: 'all', database: testDatabaseKind() },
    });
    expect(response.headers['x-request-id']).toMatch(/^req_[0-9a-z]{26}$/);
  });
});
