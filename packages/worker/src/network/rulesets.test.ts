import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotAddresses } from './addressing.js';
import { addNetns, deleteNetns, loadRuleset, runIn } from './netns.js';
import { bunkerRuleset, uplinkRuleset } from './rulesets.js';

describe('nftables rulesets, loaded by the real nft in a namespace of this test', () => {
  const netns = `sbtest-rules-${randomBytes(3).toString('hex')}`;
  beforeAll(() => addNetns(netns));
  afterAll(() => deleteNetns(netns));

  it('loads a bunker ruleset of each kind, with its resolver redirect and allowed set', async () => {
    for (const egress of ['open', 'filtered'] as const) {
      await runIn(netns, 'nft', ['flush', 'ruleset']);
      await loadRuleset(netns, bunkerRuleset({ addresses: slotAddresses(5), dns: { address: '100.97.0.21', port: 10053 }, egress }));
      const listed = (await runIn(netns, 'nft', ['list', 'table', 'inet', 'scaibunker'])).stdout;
      expect(listed).toContain('dnat ip to 100.97.0.21:10053');
      expect(listed).toContain('ip daddr 100.96.0.1');
      expect(listed).toContain('iifname "tap0" ip saddr != 100.96.0.22 counter name "forged" drop');
      expect(listed.includes('ip daddr @allowed accept')).toBe(egress === 'filtered');
    }
  });

  it('replaces the uplink table whole when loaded again', async () => {
    await loadRuleset(netns, uplinkRuleset(10053));
    await loadRuleset(netns, uplinkRuleset(10054));
    const listed = (await runIn(netns, 'nft', ['list', 'table', 'ip', 'scaibunker_uplink'])).stdout;
    expect(listed).toContain('th dport 10054 accept');
    expect(listed).not.toContain('10053');
  });

  it('gives every slot its own guest address and link /30, the one gateway, and refuses slots out of range', () => {
    expect(slotAddresses(0)).toMatchObject({ gateway: '100.96.0.1', guest: '100.96.0.2', guestPrefix: 16, linkUplink: '100.97.0.1', linkBunker: '100.97.0.2', linkPrefix: 30, uplinkDevice: 'sbv0' });
    expect(slotAddresses(16383)).toMatchObject({ gateway: '100.96.0.1', guest: '100.96.255.254', linkUplink: '100.97.255.253' });
    expect(() => slotAddresses(16384)).toThrow(RangeError);
  });
});
