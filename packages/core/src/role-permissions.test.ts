import { describe, expect, it } from 'vitest';
import { PERMISSION_KEYS } from '@scaibunker/contracts';
import { effectivePermissions, ROLE_PERMISSIONS } from './role-permissions.js';

describe('effectivePermissions', () => {
  it('adds direct grants to the role defaults, in catalogue order, without duplicates', () => {
    const keys = effectivePermissions('tenant_user', ['scaibunker:root', 'scaibunker:create']);
    expect(keys).toEqual([
      'scaibunker:create', 'scaibunker:create:session', 'scaibunker:execute', 'scaibunker:shell',
      'scaibunker:files', 'scaibunker:root', 'scaibunker:network:registry',
    ]);
  });

  it('gives a viewer exactly the keys granted directly', () => {
    expect(effectivePermissions('tenant_viewer', [])).toEqual([]);
    expect(effectivePermissions('partner_viewer', ['scaibunker:shell'])).toEqual(['scaibunker:shell']);
  });

  it('maps super_admin to every key', () => {
    expect(ROLE_PERMISSIONS.super_admin).toEqual(PERMISSION_KEYS);
  });
});
