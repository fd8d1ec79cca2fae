import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsInterceptor, type InterceptPolicy, type ResolvedAddress } from './dns-interceptor.js';
import { answerAddresses, parseQuery } from './dns-message.js';

/** A query for `name` (type A) with id `id`. */
function query(name: string, id = 7): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 0xff, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

describe('the worker’s resolver (over loopback, with an upstream of this test)', () => {
  const upstream = createSocket('udp4');
  const upstreamTcp = createServer();
  const events: string[] = [];
  const allowed: ResolvedAddress[][] = [];
  let interceptor: DnsInterceptor;
  let port: number;
  const policy: InterceptPolicy = { bunkerId: 'bnk_test', mode: 'filtered', entries: ['api.example.test', '*.pkg.example.test'], audit: true };

  beforeAll(async () => {
    // Answers every A question with 198.51.100.7, TTL 30.
    upstream.on('message', (message, from) => {
      const q = parseQuery(message);
      const answer = Buffer.concat([message.subarray(0, q.end), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 51, 100, 7])]);
      answer.writeUInt16BE(0x8180, 2);
      answer.writeUInt16BE(1, 6);
      upstream.send(answer, from.port, from.address);
    });
    await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
    // The same upstream over TCP, on the same port, answering with a second address: a guest's TCP query goes there.
    upstreamTcp.on('connection', (socket) => socket.on('data', (chunk: Buffer) => {
      const message = chunk.subarray(2);
      const q = parseQuery(message);
      const answer = Buffer.concat([message.subarray(0, q.end), Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 51, 100, 8])]);
      answer.writeUInt16BE(0x8180, 2);
      answer.writeUInt16BE(1, 6);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(answer.length);
      socket.end(Buffer.concat([length, answer]));
    }));
    await new Promise<void>((resolve) => upstreamTcp.listen(upstream.address().port, '127.0.0.1', resolve));
    interceptor = new DnsInterceptor({
      host: '127.0.0.1', port: 0, upstream: { address: '127.0.0.1', port: upstream.address().port },
      hooks: {
        allow: async (_, addresses) => { allowed.push(addresses); events.push('allow'); },
        denied: (_, name) => events.push(`denied ${name}`),
        resolved: (_, name) => events.push(`resolved ${name}`),
        queried: (_, name, type, verdict) => events.push(`queried ${name} ${type} ${verdict}`),
      },
    });
    ({ port } = await interceptor.listen());
    interceptor.setPolicy('127.0.0.1', policy);
  });
  afterAll(() => { interceptor.close(); upstream.close(); upstreamTcp.close(); });

  it('resolves an allowed name only after its addresses are let through, and refuses others with NXDOMAIN', async () => {
    const ok = (await interceptor.answer(query('a.pkg.example.test'), '127.0.0.1'))!;
    expect(answerAddresses(ok)).toEqual({ rcode: 0, addresses: [{ address: '198.51.100.7', ttl: 30 }] });
    expect(events).toEqual(['queried a.pkg.example.test 1 allowed', 'allow', 'resolved a.pkg.example.test']);
    expect(allowed).toEqual([[{ address: '198.51.100.7', ttl: 30 }]]);
    const no = (await interceptor.answer(query('evil.example.test'), '127.0.0.1'))!;
    expect(answerAddresses(no).rcode).toBe(3);
    expect(events.slice(3)).toEqual(['denied evil.example.test', 'queried evil.example.test 1 denied']);
    // A source it has no policy for (not a bunker's link) is refused.
    expect(answerAddresses((await interceptor.answer(query('api.example.test'), '127.0.0.2'))!).rcode).toBe(5);
  });

  it('answers a query over TCP by asking upstream over TCP (how a guest retries an answer too large for UDP)', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let got = Buffer.alloc(0);
      socket.on('connect', () => {
        const q = query('api.example.test', 9);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(q.length);
        socket.write(Buffer.concat([length, q]));
      });
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { socket.destroy(); resolve(got.subarray(2)); }
      });
      socket.on('error', reject);
    });
    expect(answerAddresses(reply).addresses).toEqual([{ address: '198.51.100.8', ttl: 30 }]);
  });

  it('drops a flood from one bunker beyond its share, over the wire', async () => {
    const client = createSocket('udp4');
    let answers = 0;
    client.on('message', () => { answers++; });
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    const sent = 400;
    for (let i = 0; i < sent; i++) client.send(query('evil.example.test', i), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    client.close();
    // The bucket holds 100 queries and refills at 100/s: most of a burst of 400 is dropped.
    expect(answers).toBeGreaterThan(50);
    expect(answers).toBeLessThan(250);
    expect(interceptor.stats.dropped).toBeGreaterThan(100);
  });
});
