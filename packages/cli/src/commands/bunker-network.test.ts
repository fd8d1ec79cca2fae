import { describe, expect, it } from 'vitest';
import type { EgressFlow } from '@scaibunker/contracts';
import { deniedWhat, flowLine } from './bunker-network.js';

const flow: EgressFlow = {
  bunker_id: 'bnk_1', flow_id: 'f1', start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:00:01.000Z', protocol: 'tcp',
  src: '10.0.0.2', sport: 40_000, dst: '93.184.216.34', dport: 443, bytes_out: 600, bytes_in: 5000, packets_out: 6, packets_in: 8,
  dns_name: 'example.com', verdict: 'allowed',
};

describe('flowLine', () => {
  it('prints start, protocol, src:sport → dst:dport, bytes each way, the DNS name and the verdict on one line', () => {
    expect(flowLine(flow)).toBe('2026-01-01T00:00:00.000Z  tcp  10.0.0.2:40000 → 93.184.216.34:443  out 600 B  in 5000 B  example.com  allowed');
  });

  it('leaves ports off a portless protocol, brackets IPv6 addresses before a port, and shows - without a DNS name', () => {
    expect(flowLine({ ...flow, protocol: 'icmp', sport: null, dport: null, dns_name: null, verdict: 'denied' }))
      .toBe('2026-01-01T00:00:00.000Z  icmp  10.0.0.2 → 93.184.216.34  out 600 B  in 5000 B  -  denied');
    expect(flowLine({ ...flow, src: 'fd00::2', dst: '2001:db8::1' })).toContain('[fd00::2]:40000 → [2001:db8::1]:443');
  });
});

describe('deniedWhat', () => {
  it('names a refused DNS name with its query type, by name when known', () => {
    expect(deniedWhat({ kind: 'dns', at: flow.start, name: 'evil.test', type: 28 })).toBe('evil.test (AAAA)');
    expect(deniedWhat({ kind: 'dns', at: flow.start, name: 'evil.test', type: 99 })).toBe('evil.test (type 99)');
  });

  it('names a dropped connection by protocol and endpoints', () => {
    expect(deniedWhat({ kind: 'connection', at: flow.start, protocol: 'tcp', source: '10.0.0.2', destination: '1.1.1.1', port: 443 })).toBe('tcp 10.0.0.2 → 1.1.1.1:443');
    expect(deniedWhat({ kind: 'connection', at: flow.start, protocol: 'icmp', source: '10.0.0.2', destination: '1.1.1.1' })).toBe('icmp 10.0.0.2 → 1.1.1.1');
  });
});
