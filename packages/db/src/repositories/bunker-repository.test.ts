import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { createTestDatabase } from '../testing/index.js';
import { createRepositories, type Repositories } from './index.js';
import type { BunkerRow } from './bunker-repository.js';

describe('bunker placement', () => {
  let handle: Awaited<ReturnType<typeof createTestDatabase>>;
  let repos: Repositories;
  let tenantId: string;
  let userId: string;

  beforeAll(async () => {
    handle = await createTestDatabase();
    repos = createRepositories(handle.db, handle.kind);
    const at = new Date().toISOString();
    const partner = await repos.partners.create({ id: newId('partner'), slug: 'p', name: 'P', created_at: at });
    tenantId = newId('tenant');
    await repos.tenants.create({ id: tenantId, partner_id: partner.id, slug: 't', name: 'T', created_at: at });
    userId = newId('user');
    await repos.users.create({ id: userId, tenant_id: tenantId, email: 'u@example.test', display_name: 'U', role: 'tenant_user', disabled: 0, created_at: at });
  });
  afterAll(async () => { await handle?.close(); });

  function bunker(): Omit<BunkerRow, 'worker_id'> {
    const at = new Date().toISOString();
    return {
      id: newId('bunker'), tenant_id: tenantId, owner_user_id: userId, name: null, image: 'minimal', lifecycle_mode: 'ephemeral',
      network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, egress_audit: 0, interfaces: null, cpu_millicores: 1000, memory_mb: 512, disk_mb: 1024, gpu_count: 0, gpu_type: null,
      max_lifetime_s: 900, idle_timeout_s: 300, session_type: 'standalone', session_ref: null, label_set: '{}', env_vars: '{}',
      status: 'pending', failure_reason: null, created_at: at, updated_at: at, started_at: null, last_activity_at: at, ended_at: null,
    };
  }

  it('never over-commits a worker under 50 concurrent creates', async () => {
    const workerId = newId('worker');
    const at = new Date().toISOString();
    await repos.workers.create({
      id: workerId, name: 'w1', labels: '{}', token_hash: 'x', draining: 0, cpu_millicores: 5000, memory_mb: 64_000, disk_mb: 100_000,
      gpu_count: 0, gpu_type: null, version: null, accelerator: null, session_id: null, connected_at: null, last_heartbeat_at: null, network_ready: 0, created_at: at,
    });
    await repos.workers.register(workerId, 'session-1', { cpuMillicores: 5000, memoryMb: 64_000, diskMb: 100_000, gpuCount: 0, gpuType: null, version: 't', accelerator: 'tcg', images: { minimal: 'ready' } }, at);
    const request = { image: 'minimal', cpuMillicores: 1000, memoryMb: 512, diskMb: 1024, gpuCount: 0, gpuType: null, lazyPull: false };
    const results = await Promise.all(Array.from({ length: 50 }, () => repos.bunkers.place(bunker(), request)));
    expect(results.filter((r) => r.ok)).toHaveLength(5);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === 'WORKER_UNAVAILABLE')).toBe(true);
    const usage = (await repos.workers.usage([workerId])).get(workerId);
    expect(usage).toMatchObject({ cpuMillicores: 5000, bunkers: 5 });

    // A terminated bunker frees its share at once.
    const [first] = await repos.bunkers.live(workerId);
    expect(first!.status).toBe('provisioning'); // placed and stored in one transaction: born provisioning
    expect(await repos.bunkers.transition(first!.id, ['provisioning'], 'terminated', new Date().toISOString())).toBe(true);
    expect(await repos.bunkers.transition(first!.id, ['provisioning'], 'running', new Date().toISOString())).toBe(false);
    expect(await repos.bunkers.place(bunker(), request)).toEqual({ ok: true, workerId });
  });

  it('places nothing on a worker whose link is down, and ignores a replaced session’s heartbeat', async () => {
    const workerId = newId('worker');
    const at = new Date().toISOString();
    await repos.workers.create({
      id: workerId, name: 'w2', labels: '{}', token_hash: 'x', draining: 0, cpu_millicores: 0, memory_mb: 0, disk_mb: 0,
      gpu_count: 0, gpu_type: null, version: null, accelerator: null, session_id: null, connected_at: null, last_heartbeat_at: null, network_ready: 0, created_at: at,
    });
    await repos.workers.register(workerId, 'old', { cpuMillicores: 1000, memoryMb: 1000, diskMb: 10_000, gpuCount: 0, gpuType: null, version: 't', accelerator: 'tcg', images: { python: 'ready' } }, at);
    await repos.workers.register(workerId, 'new', { cpuMillicores: 1000, memoryMb: 1000, diskMb: 10_000, gpuCount: 0, gpuType: null, version: 't', accelerator: 'tcg', images: { python: 'ready' } }, at);
    expect(await repos.workers.heartbeat(workerId, 'old', at)).toBe(false);
    expect(await repos.workers.heartbeat(workerId, 'new', at)).toBe(true);
    await repos.workers.disconnect(workerId, 'old');
    expect((await repos.workers.get(workerId))?.session_id).toBe('new');
    await repos.workers.disconnect(workerId, 'new');
    const request = { image: 'python', cpuMillicores: 100, memoryMb: 128, diskMb: 128, gpuCount: 0, gpuType: null, lazyPull: false };
    expect(await repos.bunkers.place({ ...bunker(), image: 'python' }, request)).toMatchObject({ ok: false, code: 'NO_SUITABLE_WORKER' });
  });
});
