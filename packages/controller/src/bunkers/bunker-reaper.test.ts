import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import type { BunkerRow } from '@scaibunker/db';
import { createTestApp, type TestApp } from '../testing/test-app.js';
import { WorkerHub } from '../workers/worker-hub.js';
import { BunkerReaper } from './bunker-reaper.js';
import { BUNKER_SERVICE_DEFAULTS, BunkerService } from './bunker-service.js';

describe('bunker reaper', () => {
  let t: TestApp;
  let reaper: BunkerReaper;
  let tenantId: string;
  let userId: string;
  const quiet = { info: () => undefined, warn: () => undefined };

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('reaped');
    userId = (await t.createUser(tenantId, 'tenant_user')).userId;
    // No worker is connected: stopping a VM fails quietly, and the rows still end.
    const service = new BunkerService(t.repos, new WorkerHub(t.repos, { heartbeatIntervalMs: 5000, staleAfterMs: 20_000, startTimeoutMs: 1000, log: quiet }), BUNKER_SERVICE_DEFAULTS);
    reaper = new BunkerReaper(t.repos, service, { intervalMs: 60_000, provisioningTimeoutMs: 60_000, log: quiet });
  });
  afterAll(async () => { await t.close(); });

  async function bunker(overrides: Partial<BunkerRow>): Promise<string> {
    const at = new Date(0).toISOString();
    const id = newId('bunker');
    await t.db.insertInto('bunkers').values({
      id, tenant_id: tenantId, owner_user_id: userId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral', network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null,
      cpu_millicores: 1000, memory_mb: 512, disk_mb: 1024, gpu_count: 0, gpu_type: null, max_lifetime_s: 900, idle_timeout_s: 300,
      session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}', status: 'running', failure_reason: null, worker_id: null,
      created_at: at, updated_at: at, started_at: at, last_activity_at: at, ended_at: null, ...overrides,
    }).execute();
    return id;
  }

  it('ends idle and over-age bunkers, spares paused and busy ones, and fails starts that never reported', async () => {
    const idle = await bunker({});
    const busy = await bunker({ last_activity_at: new Date(250_000).toISOString() });
    const paused = await bunker({ status: 'paused' });
    const old = await bunker({ status: 'paused', max_lifetime_s: 200 });
    const forever = await bunker({ lifecycle_mode: 'persistent', max_lifetime_s: null, idle_timeout_s: null });
    const stuck = await bunker({ status: 'provisioning', updated_at: new Date(100_000).toISOString() });

    const ended = await reaper.sweep(300_000);
    expect(new Set(ended)).toEqual(new Set([idle, old, stuck]));
    const status = async (id: string) => (await t.repos.bunkers.get(id, { all: true }))!;
    expect((await status(idle)).status).toBe('terminated');
    expect((await status(old)).status).toBe('terminated');
    expect((await status(stuck))).toMatchObject({ status: 'failed', failure_reason: expect.stringContaining('provisioning did not complete') });
    for (const alive of [busy, paused, forever]) expect(['running', 'paused']).toContain((await status(alive)).status);

    // Each platform transition is in the audit log, with no actor.
    const rows = await t.db.selectFrom('audit_log').selectAll().where('target_id', 'in', [idle, old, stuck]).execute();
    const actionOf = (id: string) => rows.filter((r) => r.target_id === id).map((r) => `${r.action} ${r.request_id}`);
    expect(actionOf(idle)).toEqual(['bunker.terminate system:idle_timeout']);
    expect(actionOf(old)).toEqual(['bunker.terminate system:max_lifetime']);
    expect(actionOf(stuck)).toEqual([expect.stringMatching(/^bunker\.fail system:provisioning did not complete/)]);
    expect(rows.every((r) => r.actor_user_id === null)).toBe(true);

    // A second pass finds nothing more to do.
    expect(await reaper.sweep(300_000)).toEqual([]);
  });
});
