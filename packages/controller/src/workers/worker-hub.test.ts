import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { BUNKER_SERVICE_DEFAULTS, BunkerService } from '../bunkers/bunker-service.js';
import { createTestApp, type TestApp } from '../testing/test-app.js';
import { WorkerHub } from './worker-hub.js';

describe('worker heartbeats', () => {
  let t: TestApp;
  let hub: WorkerHub;
  let tenantId: string;
  let userId: string;
  const quiet = { info: () => undefined, warn: () => undefined };

  beforeAll(async () => {
    t = await createTestApp();
    tenantId = await t.createTenant('hb');
    userId = (await t.createUser(tenantId, 'tenant_user')).userId;
    hub = new WorkerHub(t.repos, { heartbeatIntervalMs: 5000, staleAfterMs: 20_000, startTimeoutMs: 1000, log: quiet });
    hub.bindBunkers(new BunkerService(t.repos, hub, BUNKER_SERVICE_DEFAULTS));
  });
  afterAll(async () => { await hub.close(); await t.close(); });

  async function workerWithBunker(lastBeatMs: number, sessionId: string | null): Promise<{ workerId: string; bunkerId: string }> {
    const workerId = newId('worker');
    const beat = new Date(lastBeatMs).toISOString();
    await t.db.insertInto('workers').values({
      id: workerId, name: workerId.slice(-8), labels: '{}', token_hash: 'x', draining: 0, cpu_millicores: 4000, memory_mb: 8192, disk_mb: 10_000,
      gpu_count: 0, gpu_type: null, version: 't', accelerator: 'tcg', session_id: sessionId, connected_at: beat, last_heartbeat_at: beat, network_ready: 0, created_at: beat,
    }).execute();
    const bunkerId = newId('bunker');
    await t.db.insertInto('bunkers').values({
      id: bunkerId, tenant_id: tenantId, owner_user_id: userId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral', network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null,
      cpu_millicores: 1000, memory_mb: 512, disk_mb: 1024, gpu_count: 0, gpu_type: null, max_lifetime_s: null, idle_timeout_s: null,
      session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}', status: 'running', failure_reason: null, worker_id: workerId,
      created_at: beat, updated_at: beat, started_at: beat, last_activity_at: beat, ended_at: null,
    }).execute();
    return { workerId, bunkerId };
  }

  it('fails the bunkers of a worker whose heartbeat went stale, takes it offline, and frees its resources', async () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    const stale = await workerWithBunker(now - 25_000, 'old-session');
    const fresh = await workerWithBunker(now - 3000, 'live-session');
    await hub.sweep(now);
    const bunker = async (id: string) => (await t.repos.bunkers.get(id, { all: true }))!;
    expect(await bunker(stale.bunkerId)).toMatchObject({ status: 'failed', failure_reason: 'its worker stopped sending heartbeats' });
    expect((await t.repos.workers.get(stale.workerId))?.session_id).toBeNull();
    expect((await t.repos.workers.usage([stale.workerId])).get(stale.workerId)).toBeUndefined();
    expect((await bunker(fresh.bunkerId)).status).toBe('running');
  });

  it('keeps the bunkers of a worker whose link dropped until it has been silent past the window', async () => {
    const now = Date.parse('2026-12-04T13:00:00Z');
    const away = await workerWithBunker(now - 10_000, null); // link down 10 s ago: may come back
    await hub.sweep(now);
    expect((await t.repos.bunkers.get(away.bunkerId, { all: true }))?.status).toBe('running');
    await hub.sweep(now + 15_000);
    expect((await t.repos.bunkers.get(away.bunkerId, { all: true }))?.status).toBe('failed');
  });
});
