import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '@scaibunker/storage';
import { AuditBatches, parseConntrackEvent, type FlowRecord } from './flow-audit.js';

describe('egress audit', () => {
  it('reads conntrack events: the original direction first, the reply’s counters second, the id last', () => {
    const opened = parseConntrackEvent('[1796430264.641817]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=10.9.0.1 dst=10.9.0.2 sport=40098 dport=8000 [UNREPLIED] src=10.9.0.2 dst=10.9.0.1 sport=8000 dport=40098 id=2466535255');
    expect(opened).toMatchObject({ type: 'NEW', id: '2466535255', protocol: 'tcp', src: '10.9.0.1', dst: '10.9.0.2', sport: 40098, dport: 8000, at: '2026-12-05T00:24:24.641Z' });
    const ended = parseConntrackEvent('[1796430272.001770]\t[DESTROY] ipv4     2 tcp      6 TIME_WAIT src=10.9.0.1 dst=10.9.0.2 sport=40098 dport=8000 packets=6 bytes=437 src=10.9.0.2 dst=10.9.0.1 sport=8000 dport=40098 packets=6 bytes=1400 [ASSURED] id=2466535255');
    expect(ended).toMatchObject({ type: 'DESTROY', packets: 6, bytes: 437, replyPackets: 6, replyBytes: 1400 });
    const ping = parseConntrackEvent('[1796430272.5]\t[DESTROY] ipv4     2 icmp     1 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=7 packets=1 bytes=84 src=10.9.0.2 dst=10.9.0.1 type=0 code=0 id=7 packets=1 bytes=84 id=99');
    expect(ping).toMatchObject({ id: '99', protocol: 'icmp', sport: null, dport: null, bytes: 84 });
    const deleted = parseConntrackEvent('[1796430730.219651]\t[DESTROY] ipv4     2 tcp      6 1 TIME_WAIT src=100.96.0.2 dst=198.51.100.10 sport=34180 dport=80 packets=5 bytes=353 src=198.51.100.10 dst=100.97.0.2 sport=80 dport=34180 packets=5 bytes=490 [ASSURED] id=3872921130 [USERSPACE] portid=3309712382');
    expect(deleted).toMatchObject({ type: 'DESTROY', state: 'TIME_WAIT', id: '3872921130', bytes: 353, replyBytes: 490 });
    expect(parseConntrackEvent('[1796430730.204825]\t [UPDATE] ipv4     2 tcp      6 2 TIME_WAIT src=100.96.0.2 dst=198.51.100.10 sport=34180 dport=80 src=198.51.100.10 dst=100.97.0.2 sport=80 dport=34180 [ASSURED] id=3872921130')).toMatchObject({ type: 'UPDATE', state: 'TIME_WAIT' });
    for (const junk of ['', 'conntrack v1.4.7 (conntrack-tools): 2 flow events have been shown.', '[1] [NEW] ipv6 10 tcp 6 src=::1']) expect(parseConntrackEvent(junk)).toBeUndefined();
  });

  it('writes batches as NDJSON objects whose keys sort in time order', async () => {
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'scaibunker-audit-')));
    const batches = new AuditBatches('bnk_test', store, { flushMs: 60_000, maxRecords: 2, onError: (error) => { throw error; } });
    const flow = (n: number): FlowRecord => ({
      bunker_id: 'bnk_test', flow_id: String(n), start: '2026-12-05T00:00:00.000Z', end: '2026-12-05T00:00:01.000Z', protocol: 'tcp',
      src: '100.96.0.2', sport: 1000 + n, dst: '192.0.2.1', dport: 80, bytes_out: n, bytes_in: n, packets_out: 1, packets_in: 1, dns_name: null, verdict: 'allowed',
    });
    for (let n = 0; n < 5; n++) batches.add(flow(n));
    await batches.flush();
    const keys = await store.list('scaibunker/audit/bnk_test');
    expect(keys).toHaveLength(3);
    expect(keys.every((key) => new RegExp(`^scaibunker/audit/bnk_test/\\d{16}-${process.pid}\\.ndjson$`).test(key))).toBe(true);
    const lines = (await Promise.all(keys.map(async (key) => (await store.get(key))!.toString().trim().split('\n')))).flat();
    expect(lines.map((line) => (JSON.parse(line) as FlowRecord).flow_id)).toEqual(['0', '1', '2', '3', '4']);
  });
});
