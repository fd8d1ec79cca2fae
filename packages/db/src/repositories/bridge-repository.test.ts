import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { addTenantUser, openSeededDatabase, SMALL_BUNKER, smallBunkerRow } from '../testing/index.js';
import type { Repositories } from './index.js';

/** Transit bridges against the real database: what placement and deletion see under the placement lock. */
describe('bridges and transit placement', () => {
  let handle: Awaited<ReturnType<typeof openSeededDatabase>>['handle'];
  let repos: Repositories;
  let tenantId: string;
  let userId: string;
  const at = () => new Date().toISOString();

  beforeAll(async () => {
    ({ handle, repos, tenantId } = await openSeededDatabase('br'));
    userId = await addTenantUser(repos, tenantId);
  });
  afterAll(async () => { await handle?.close(); });

  const bridge = async (name: string) => {
    const workerId = (await repos.workers.accepting())[0]!.id;
    return repos.bridges.create({ id: newId('bridge'), tenant_id: tenantId, name, worker_id: workerId, created_by: userId, created_at: at() });
  };
  const transit = (bridgeId: string, mac: string) => ({
    ...smallBunkerRow(tenantId, userId), network_profile: 'transit', interfaces: JSON.stringify([{ if_name: 'lan0', bridge_id: bridgeId, bridge_name: 'x', mac, spoof_guard: true }]),
  });

  it('refuses a transit bunker whose bridge went or whose MAC was taken meanwhile, and keeps a bridge in use', async () => {
    const lan = await bridge('lan');
    const placed = await repos.bunkers.place(transit(lan.id, '02:00:00:00:00:01'), SMALL_BUNKER.request);
    expect(placed.ok).toBe(true);
    expect(await repos.bunkers.place(transit(lan.id, '02:00:00:00:00:01'), SMALL_BUNKER.request)).toMatchObject({ ok: false, code: 'CONFLICT', reason: expect.stringContaining('MAC') });
    expect(await repos.bridges.macsInUse([lan.id])).toEqual(new Map([[lan.id, new Set(['02:00:00:00:00:01'])]]));

    // In use: not deleted, and it says by whom.
    expect((await repos.bridges.deleteIfUnused(lan)).length).toBe(1);
    expect(await repos.bridges.get(lan.id, tenantId)).toBeDefined();

    const gone = await bridge('gone');
    expect(await repos.bridges.deleteIfUnused(gone)).toEqual([]);
    expect(await repos.bridges.get(gone.id, tenantId)).toBeUndefined();
    expect(await repos.bunkers.place(transit(gone.id, '02:00:00:00:00:02'), SMALL_BUNKER.request)).toMatchObject({ ok: false, code: 'CONFLICT', reason: expect.stringContaining('deleted') });
    // Another tenant never sees it.
    expect(await repos.bridges.get(lan.id, newId('tenant'))).toBeUndefined();
  });
});
