import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../testing/test-app.js';

const B = '/v1/modules/scaibunker';

describe('network_allowlist at the API edge', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t.close(); });

  it('answers one VALIDATION_ERROR detail per bad entry, and requires the list with allowlisted only', async () => {
    const bad = await t.admin.post(`${B}/bunkers`, { image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['api.example.test', 'https://x.example.test', '*.pkg.example.test', 'a.*.example.test', 'example.test:8080'] });
    expect(bad.statusCode).toBe(422);
    expect(bad.body.error.code).toBe('VALIDATION_ERROR');
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['network_allowlist[1]', 'network_allowlist[3]', 'network_allowlist[4]']);
    expect(bad.body.error.details[0].message).toMatch(/scheme/);

    const missing = await t.admin.post(`${B}/bunkers`, { image: 'minimal', network_profile: 'allowlisted' });
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'network_allowlist' }] });
    const stray = await t.admin.post(`${B}/bunkers`, { image: 'minimal', network_allowlist: ['api.example.test'] });
    expect(stray.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'network_allowlist', message: expect.stringContaining('isolated') }] });
    // Nothing was stored by any of them.
    expect((await t.admin.get(`${B}/bunkers`)).body.data).toEqual([]);
    // A valid list passes the edge (this app has no worker to place it on).
    const valid = await t.admin.post(`${B}/bunkers`, { image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['api.example.test', '*.pkg.example.test'] });
    expect(valid.body.error.code).toMatch(/^(NO_SUITABLE_WORKER|WORKER_UNAVAILABLE)$/);
  });
});
