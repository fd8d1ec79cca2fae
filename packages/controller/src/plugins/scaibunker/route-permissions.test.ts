import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PermissionKey } from '@scaibunker/contracts';
import { newId } from '@scaibunker/core';
import { createTestApp, type TestApp, type TestClient, type TestResponse } from '../../testing/test-app.js';

const B = '/v1/modules/scaibunker';

/**
 * Spec §3: every route of the module enforces its key. A user who holds no key at all (a
 * tenant viewer) is refused each action with the spec's code; granted exactly that key, the
 * same call gets past the check (here it then meets no worker: no link is connected).
 */
describe('module routes enforce their permission keys', () => {
  let t: TestApp;
  let tenantId: string;
  let userId: string;
  let client: TestClient;
  let bunkerId: string;

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('perm-routes');
    ({ userId, client } = await t.createUser(tenantId, 'tenant_viewer'));
    bunkerId = newId('bunker');
    const at = new Date().toISOString();
    await t.db.insertInto('bunkers').values({
      id: bunkerId, tenant_id: tenantId, owner_user_id: userId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral', network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null,
      cpu_millicores: 1000, memory_mb: 128, disk_mb: 256, gpu_count: 0, gpu_type: null, max_lifetime_s: null, idle_timeout_s: null,
      session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}', status: 'running', failure_reason: null,
      worker_id: null, created_at: at, updated_at: at, started_at: at, last_activity_at: at, ended_at: null,
    }).execute();
  });
  afterAll(async () => { await t.close(); });

  async function grant(key: PermissionKey): Promise<void> {
    expect((await t.admin.post(`/v1/users/${userId}/permissions`, { permission: key })).statusCode).toBe(200);
  }
  async function revoke(key: PermissionKey): Promise<void> {
    await t.admin.delete(`/v1/users/${userId}/permissions/${key}`);
  }

  /** Refused without `key` (with `code`), past the check with it. */
  async function enforces(key: PermissionKey, call: () => Promise<TestResponse>, code = 'AUTHZ_PERMISSION_DENIED', alsoNeeded: PermissionKey[] = []): Promise<void> {
    for (const k of alsoNeeded) await grant(k);
    const refused = await call();
    expect(refused.body.error?.code, `${key} refused`).toBe(code);
    expect(refused.statusCode).toBe(403);
    await grant(key);
    const allowed = await call();
    expect(allowed.body.error?.code ?? 'ok', `${key} allowed`).not.toBe(code);
    expect(allowed.statusCode).not.toBe(403);
    await revoke(key);
    for (const k of alsoNeeded) await revoke(k);
  }

  it('create, and the lifecycle and network keys with their own codes', async () => {
    await enforces('scaibunker:create', () => client.post(`${B}/bunkers`, { image: 'minimal' }));
    await enforces('scaibunker:create:session', () => client.post(`${B}/bunkers`, { image: 'minimal', lifecycle_mode: 'session' }), 'LIFECYCLE_MODE_DENIED', ['scaibunker:create']);
    await enforces('scaibunker:create:persistent', () => client.post(`${B}/bunkers`, { image: 'minimal', lifecycle_mode: 'persistent' }), 'LIFECYCLE_MODE_DENIED', ['scaibunker:create']);
    for (const profile of ['registry', 'allowlisted', 'unrestricted'] as const) {
      await enforces(`scaibunker:network:${profile}`, () => client.post(`${B}/bunkers`, { image: 'minimal', network_profile: profile }), 'NETWORK_PROFILE_DENIED', ['scaibunker:create']);
    }
    await enforces('scaibunker:network:transit', () => client.post(`${B}/bunkers`, { image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'b' }] }), 'NETWORK_PROFILE_DENIED', ['scaibunker:create']);
  });

  it('lifecycle verbs on a bunker need create', async () => {
    for (const verb of ['pause', 'resume', 'keepalive']) await enforces('scaibunker:create', () => client.post(`${B}/bunkers/${bunkerId}/${verb}`));
  });

  it('exec and processes need execute; root needs root as well', async () => {
    await enforces('scaibunker:execute', () => client.post(`${B}/bunkers/${bunkerId}/exec`, { command: 'true' }));
    await enforces('scaibunker:root', () => client.post(`${B}/bunkers/${bunkerId}/exec`, { command: 'true', user: 'root' }), 'AUTHZ_PERMISSION_DENIED', ['scaibunker:execute']);
    await enforces('scaibunker:execute', () => client.get(`${B}/bunkers/${bunkerId}/processes`));
    await enforces('scaibunker:execute', () => client.post(`${B}/bunkers/${bunkerId}/processes/7/signal`, { signal: 'SIGTERM' }));
    await enforces('scaibunker:execute', () => client.post(`${B}/bunkers/${bunkerId}/processes/7/stdin`, { data: 'x' }));
  });

  it('files need files', async () => {
    await enforces('scaibunker:files', () => client.get(`${B}/bunkers/${bunkerId}/files?path=/etc/hostname`));
    await enforces('scaibunker:files', () => client.get(`${B}/bunkers/${bunkerId}/files?path=/tmp&list=true`));
    await enforces('scaibunker:files', () => client.delete(`${B}/bunkers/${bunkerId}/files?path=/tmp/x`));
    await enforces('scaibunker:files', () => client.post(`${B}/bunkers/${bunkerId}/files/mkdir`, { path: '/tmp/d' }));
  });

  it('workers need admin (admin:platform to issue a credential); quota profiles admin:tenant; quota usage create', async () => {
    await enforces('scaibunker:admin', () => client.get(`${B}/workers`));
    await enforces('scaibunker:admin:platform', () => client.post(`${B}/workers`, { name: 'perm-worker' }));
    await enforces('scaibunker:admin:tenant', () => client.get(`${B}/quota-profiles`));
    await enforces('scaibunker:create', () => client.get(`${B}/quota-profiles/usage`));
  });

  it('raw-body uploads need their keys too: a file, and a process’s stdin', async () => {
    const raw = (path: string) => () => t.inject({
      method: 'PUT', url: `${B}${path}`, headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/octet-stream' }, payload: Buffer.from('x'),
    });
    await enforces('scaibunker:files', raw(`/bunkers/${bunkerId}/files?path=/tmp/x`));
    await enforces('scaibunker:execute', raw(`/bunkers/${bunkerId}/processes/7/stdin`));
  });

  it('the network’s reads need only sight of the bunker (viewers included), never another tenant’s', async () => {
    for (const path of ['network', 'egress-audit']) {
      const answer = await client.get(`${B}/bunkers/${bunkerId}/${path}`);
      expect(answer.statusCode, path).toBe(200);
    }
    // Another tenant's caller does not see it at all.
    const { client: stranger } = await t.createUser(await t.createTenant('perm-stranger'), 'tenant_admin');
    expect((await stranger.get(`${B}/bunkers/${bunkerId}/network`)).body.error.code).toBe('NOT_FOUND');
  });

  it('bridges: managing them needs admin, reading them the transit key', async () => {
    await enforces('scaibunker:admin', () => client.post(`${B}/bridges`, { name: 'perm-bridge' }));
    await enforces('scaibunker:admin', () => client.delete(`${B}/bridges/brg_0000000000000000000000000a`));
    await enforces('scaibunker:network:transit', () => client.get(`${B}/bridges`));
    await enforces('scaibunker:network:transit', () => client.get(`${B}/bridges/brg_0000000000000000000000000a`));
  });
});
