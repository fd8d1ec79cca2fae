import { describe, expect, it } from 'vitest';
import { PERMISSION_KEYS } from '@scaibunker/contracts';
import type { Actor } from '@scaibunker/core';
import type { BridgeRow } from '@scaibunker/db';
import { checkTransitInterfaces } from './bunker-network.js';

const actor = (keys: readonly string[] = PERMISSION_KEYS): Actor => ({
  userId: 'usr_1', tenantId: 'ten_1', partnerId: 'prt_1', apiKeyId: 'key_1', role: 'tenant_admin', permissions: new Set(keys) as Actor['permissions'],
});
const bridge = (name: string, workerId = 'wrk_a'): BridgeRow => ({ id: `brg_${name}`, tenant_id: 'ten_1', name, worker_id: workerId, created_by: 'usr_1', created_at: '2026-12-05T00:00:00.000Z' });
const fieldsOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { code: string; details?: { field: string; message: string }[] }).details?.map((d) => `${d.field}: ${d.message}`) ?? [(error as { code: string }).code];
  }
  return [];
};

describe('transit interfaces', () => {
  it('attaches to the tenant’s bridges on one worker, generating the MACs not given', () => {
    const checked = checkTransitInterfaces(actor(), [{ if_name: 'lan0', bridge_name: 'lan' }, { if_name: 'wan0', bridge_name: 'wan', mac: '02:00:00:00:00:07', spoof_guard: false }], [bridge('lan'), bridge('wan')], new Map());
    expect(checked.workerId).toBe('wrk_a');
    expect(checked.interfaces[0]).toMatchObject({ if_name: 'lan0', bridge_id: 'brg_lan', spoof_guard: true, mac: expect.stringMatching(/^02(:[0-9a-f]{2}){5}$/) });
    expect(checked.interfaces[1]).toEqual({ if_name: 'wan0', bridge_id: 'brg_wan', bridge_name: 'wan', mac: '02:00:00:00:00:07', spoof_guard: false });
  });

  it('names every problem: unknown bridges, the guest’s own names, repeats, multicast and taken MACs', () => {
    const problems = fieldsOf(() => checkTransitInterfaces(actor(), [
      { if_name: 'eth0', bridge_name: 'nope' },
      { if_name: 'lan0', bridge_name: 'lan', mac: '03:00:00:00:00:01' },
      { if_name: 'lan0', bridge_name: 'lan', mac: '02:00:00:00:00:09' },
    ], [bridge('lan')], new Map([['brg_lan', new Set(['02:00:00:00:00:09'])]])));
    expect(problems).toEqual([
      'interfaces[0].bridge_name: no bridge of this name in your tenant',
      'interfaces[0].if_name: eth0 and lo are the guest’s own',
      'interfaces[1].mac: a unicast MAC (its first byte even)',
      'interfaces[2].if_name: used by another interface',
      'interfaces[2].mac: another live bunker has it on this bridge',
    ]);
  });

  it('refuses bridges on two workers, and spoof_guard off without l2_transparency', () => {
    expect(fieldsOf(() => checkTransitInterfaces(actor(), [{ if_name: 'a', bridge_name: 'x' }, { if_name: 'b', bridge_name: 'y' }], [bridge('x'), bridge('y', 'wrk_b')], new Map())))
      .toEqual(['interfaces: these bridges are on different workers']);
    expect(fieldsOf(() => checkTransitInterfaces(actor(['scaibunker:network:transit']), [{ if_name: 'a', bridge_name: 'x', spoof_guard: false }], [bridge('x')], new Map())))
      .toEqual(['AUTHZ_PERMISSION_DENIED']);
  });
});
