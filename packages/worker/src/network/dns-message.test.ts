import { describe, expect, it } from 'vitest';
import { answerAddresses, DnsFormatError, parseQuery, RCODE, refusal } from './dns-message.js';

/** A query as a stub resolver sends it: id, RD, one question (and an EDNS OPT record when asked). */
function query(name: string, type = 1, edns = false): Buffer {
  const header = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const opt = edns ? Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1]), opt]);
}

describe('DNS messages', () => {
  it('reads a query’s question, in lower case, and where it ends', () => {
    const q = parseQuery(query('API.Example.test', 1, true));
    expect(q).toMatchObject({ id: 0x1234, name: 'api.example.test', type: 1 });
    expect(q.end).toBe(12 + 18 + 4);
  });

  it('reads every A record of an answer, through a CNAME, with its TTL', () => {
    const q = query('www.example.test');
    const header = Buffer.from(q.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2);
    header.writeUInt16BE(2, 6);
    const cname = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 30, 0, 6, 3]), Buffer.from('cdn'), Buffer.from([0xc0, 16])]);
    const a = Buffer.from([0xc0, 42, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 198, 51, 100, 7]);
    const response = Buffer.concat([header, q.subarray(12), cname, a]);
    expect(answerAddresses(response)).toEqual({ rcode: 0, addresses: [{ address: '198.51.100.7', ttl: 300 }] });
  });

  it('builds a refusal that echoes the question', () => {
    const raw = query('evil.example.test', 1, true);
    const reply = refusal(raw, parseQuery(raw), RCODE.NXDOMAIN);
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(2)).toBe(0x8183);
    expect(answerAddresses(reply)).toEqual({ rcode: 3, addresses: [] });
    expect(parseQuery(Buffer.concat([raw.subarray(0, 2), Buffer.from([1, 0]), reply.subarray(4)])).name).toBe('evil.example.test');
  });

  it('refuses malformed input with DnsFormatError, whatever the bytes', () => {
    const bad = [
      Buffer.alloc(5),
      Buffer.concat([query('a.test').subarray(0, 14)]),
      (() => { const b = query('a.test'); b.writeUInt16BE(2, 4); return b; })(),
      (() => { const b = query('a.test'); b.writeUInt16BE(0x8100, 2); return b; })(),
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]), // a pointer to itself
      Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64, 0, 0, 1, 0, 1]),
    ];
    for (const message of bad) expect(() => parseQuery(message)).toThrow(DnsFormatError);
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: 12 + (i % 64) }, () => Math.floor(Math.random() * 256)));
      try { parseQuery(junk); answerAddresses(junk); } catch (error) { expect(error).toBeInstanceOf(DnsFormatError); }
    }
  });
});
