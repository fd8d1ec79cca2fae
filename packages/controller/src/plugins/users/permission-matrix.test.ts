import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_KEYS, ROLES, type Role } from '@scaibunker/contracts';
import { createTestApp, type TestApp, type TestClient } from '../../testing/test-app.js';

// The expected mapping, written out by hand from spec/API.md §2 so that the test does not
// merely restate the code: ● held by default, · not held.
const MATRIX: Record<string, Record<Role, '●' | '·'>> = {
  //                                  super  p_adm  p_view t_adm  t_user t_view
  'scaibunker:create':               row('●', '●', '·', '●', '●', '·'),
  'scaibunker:create:session':       row('●', '●', '·', '●', '●', '·'),
  'scaibunker:create:persistent':    row('●', '●', '·', '●', '·', '·'),
  'scaibunker:execute':              row('●', '●', '·', '●', '●', '·'),
  'scaibunker:shell':                row('●', '●', '·', '●', '●', '·'),
  'scaibunker:files':                row('●', '●', '·', '●', '●', '·'),
  'scaibunker:root':                 row('●', '●', '·', '●', '·', '·'),
  'scaibunker:network:registry':     row('●', '●', '·', '●', '●', '·'),
  'scaibunker:network:allowlisted':  row('●', '●', '·', '●', '·', '·'),
  'scaibunker:network:unrestricted': row('●', '●', '·', '●', '·', '·'),
  'scaibunker:network:transit':      row('●', '●', '·', '●', '·', '·'),
  'scaibunker:l2_transparency':      row('●', '●', '·', '●', '·', '·'),
  'scaibunker:images:manage':        row('●', '●', '·', '●', '·', '·'),
  'scaibunker:admin':                row('●', '·', '·', '·', '·', '·'),
  'scaibunker:admin:tenant':         row('●', '●', '·', '●', '·', '·'),
  'scaibunker:admin:platform':       row('●', '·', '·', '·', '·', '·'),
};

function row(...cells: ('●' | '·')[]): Record<Role, '●' | '·'> {
  return Object.fromEntries(ROLES.map((role, i) => [role, cells[i]!])) as Record<Role, '●' | '·'>;
}

describe('permission matrix: every built-in role against every permission key', () => {
  let t: TestApp;
  const clients = new Map<Role, { client: TestClient; userId: string }>();

  beforeAll(async () => {
    t = await createTestApp();
    const tenantId = await t.createTenant('matrix');
    for (const role of ROLES) clients.set(role, await t.createUser(tenantId, role));
  });
  afterAll(async () => { await t.close(); });

  it('covers all sixteen keys', () => {
    expect(Object.keys(MATRIX).sort()).toEqual([...PERMISSION_KEYS].sort());
    expect(PERMISSION_KEYS).toHaveLength(16);
  });

  for (const role of ROLES) {
    it(`gives ${role} exactly its default keys, in /v1/me and in the module’s own view`, async () => {
      const { client } = clients.get(role)!;
      const expected = PERMISSION_KEYS.filter((key) => MATRIX[key]![role] === '●');
      const me = await client.get('/v1/me');
      expect(me.body.data.permissions).toEqual(expected);
      const moduleView = await client.get('/v1/modules/scaibunker/permissions');
      expect(moduleView.statusCode).toBe(200);
      for (const entry of moduleView.body.data) expect(entry.held, `${role} ${entry.key}`).toBe(MATRIX[entry.key]![role] === '●');
    });
  }

  it('adds a direct grant to a role’s keys and removes it on revoke', async () => {
    const { client, userId } = clients.get('tenant_user')!;
    const granted = await t.admin.post(`/v1/users/${userId}/permissions`, { permission: 'scaibunker:root' });
    expect(granted.body.data.direct).toEqual(['scaibunker:root']);
    expect((await client.get('/v1/me')).body.data.permissions).toContain('scaibunker:root');
    expect((await t.admin.delete(`/v1/users/${userId}/permissions/scaibunker:root`)).statusCode).toBe(200);
    expect((await client.get('/v1/me')).body.data.permissions).not.toContain('scaibunker:root');
    expect((await t.admin.delete(`/v1/users/${userId}/permissions/scaibunker:root`)).body.error.code).toBe('NOT_FOUND');
  });

  it('refuses granting a key the granter does not hold', async () => {
    const { client } = clients.get('tenant_admin')!;
    const { userId } = clients.get('tenant_viewer')!;
    const response = await client.post(`/v1/users/${userId}/permissions`, { permission: 'scaibunker:admin:platform' });
    expect(response.statusCode).toBe(403);
    expect(response.body.error.code).toBe('AUTHZ_PERMISSION_DENIED');
    const ok = await client.post(`/v1/users/${userId}/permissions`, { permission: 'scaibunker:execute' });
    expect(ok.body.data.effective).toEqual(['scaibunker:execute']);
  });

  it('refuses an unknown permission key with VALIDATION_ERROR', async () => {
    const { userId } = clients.get('tenant_user')!;
    const response = await t.admin.post(`/v1/users/${userId}/permissions`, { permission: 'scaibunker:everything' });
    expect(response.statusCode).toBe(422);
    expect(response.body.error.details[0].field).toBe('permission');
  });
});
