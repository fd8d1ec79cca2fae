import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '@scaibunker/core';
import { addTenantUser, openSeededDatabase } from '../testing/index.js';
import type { Repositories } from './index.js';

/** Group membership against the real database (SQLite and PostgreSQL). */
describe('group members', () => {
  let handle: Awaited<ReturnType<typeof openSeededDatabase>>['handle'];
  let repos: Repositories;
  let tenantId: string;
  const at = () => new Date().toISOString();

  beforeAll(async () => {
    ({ handle, repos, tenantId } = await openSeededDatabase('gm'));
  });
  afterAll(async () => { await handle?.close(); });

  it('answers NOT_FOUND, not a driver error, when the group or member was deleted meanwhile', async () => {
    const userId = await addTenantUser(repos, tenantId);
    const [parent, gone] = [newId('group'), newId('group')];
    for (const id of [parent, gone]) await repos.groups.create({ id, tenant_id: tenantId, name: `g-${id}`, description: null, created_at: at() });
    await repos.groups.delete(gone);
    await expect(repos.groups.addUser(gone, userId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(repos.groups.addChildGroup(tenantId, parent, gone)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(repos.groups.addUser(parent, newId('user'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The live ones still work, twice over.
    await repos.groups.addUser(parent, userId);
    await repos.groups.addUser(parent, userId);
  });
});
