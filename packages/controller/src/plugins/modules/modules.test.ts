import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

describe('modules admin', () => {
  let t: TestApp;
  let partnerId: string;
  let tenantId: string;
  let partnerAdmin: TestClient;
  let tenantAdmin: TestClient;
  let user: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    partnerId = (await t.admin.post('/v1/partners', { slug: 'mod-partner', name: 'P' })).body.data.id;
    tenantId = await t.createTenant('mod-tenant', partnerId);
    partnerAdmin = (await t.createUser(tenantId, 'partner_admin')).client;
    tenantAdmin = (await t.createUser(tenantId, 'tenant_admin')).client;
    user = (await t.createUser(tenantId, 'tenant_user')).client;
  });
  afterAll(async () => { await t.close(); });

  const moduleRoute = () => user.get('/v1/modules/scaibunker/permissions');

  it('lists scaibunker as enabled by default', async () => {
    const list = await user.get('/v1/modules');
    expect(list.body.data).toEqual([expect.objectContaining({ id: 'scaibunker', enabled: true, disabled_by: null })]);
    expect((await moduleRoute()).statusCode).toBe(200);
  });

  it('answers MODULE_NOT_ENABLED on module routes once a tenant admin disables it, and serves again once re-enabled', async () => {
    expect((await tenantAdmin.post('/v1/modules/scaibunker/disable')).body.data).toEqual({ module_id: 'scaibunker', scope: 'tenant', target_id: tenantId, enabled: false });
    const refused = await moduleRoute();
    expect(refused.statusCode).toBe(403);
    expect(refused.body.error.code).toBe('MODULE_NOT_ENABLED');
    expect((await user.get('/v1/modules/scaibunker')).body.data).toMatchObject({ enabled: false, disabled_by: 'tenant' });
    await tenantAdmin.post('/v1/modules/scaibunker/enable');
    expect((await moduleRoute()).statusCode).toBe(200);
  });

  it('lets a partner disable beat a tenant enable (most restrictive wins)', async () => {
    await partnerAdmin.post('/v1/modules/scaibunker/disable', { scope: 'partner' });
    await tenantAdmin.post('/v1/modules/scaibunker/enable');
    expect((await user.get('/v1/modules/scaibunker')).body.data).toMatchObject({ enabled: false, disabled_by: 'partner' });
    expect((await moduleRoute()).body.error.code).toBe('MODULE_NOT_ENABLED');
    expect((await tenantAdmin.post('/v1/modules/scaibunker/enable', { scope: 'partner' })).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    await partnerAdmin.post('/v1/modules/scaibunker/enable', { scope: 'partner', target_id: partnerId });
    expect((await moduleRoute()).statusCode).toBe(200);
  });

  it('keeps the module’s config while it is disabled, merges PUTs and resets keys set to null', async () => {
    const put = await tenantAdmin.put('/v1/modules/scaibunker/config', { default_image: 'python-3.12', egress_audit: true });
    expect(put.body.data.config).toEqual({ default_image: 'python-3.12', default_lifecycle_mode: 'ephemeral', default_network_profile: 'isolated', egress_audit: true });
    await tenantAdmin.post('/v1/modules/scaibunker/disable');
    await tenantAdmin.put('/v1/modules/scaibunker/config', { default_network_profile: 'registry', egress_audit: null });
    await tenantAdmin.post('/v1/modules/scaibunker/enable');
    const read = await user.get('/v1/modules/scaibunker/config');
    expect(read.body.data).toEqual({
      module_id: 'scaibunker', tenant_id: tenantId,
      config: { default_image: 'python-3.12', default_lifecycle_mode: 'ephemeral', default_network_profile: 'registry', egress_audit: false },
    });
  });

  it('validates config keys and values, and only lets admins write', async () => {
    const bad = await tenantAdmin.put('/v1/modules/scaibunker/config', { warp_drive: true, default_network_profile: 'everything' });
    expect(bad.statusCode).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['default_network_profile', 'warp_drive']);
    expect((await user.put('/v1/modules/scaibunker/config', { egress_audit: true })).body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
  });

  it('answers NOT_FOUND for an unknown module and for another partner’s tenant', async () => {
    expect((await user.get('/v1/modules/warpdrive')).statusCode).toBe(404);
    const other = await t.createTenant('mod-other');
    expect((await partnerAdmin.post('/v1/modules/scaibunker/disable', { target_id: other })).statusCode).toBe(404);
  });
});
