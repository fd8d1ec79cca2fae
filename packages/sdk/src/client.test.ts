import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { recordingClient } from './testing/recording-client.js';


const B = '/v1/modules/scaibunker/bunkers';

describe('ScaiBunkerClient bunkers and workers', () => {
  it('sends the bodiless verbs without a body or a JSON content-type, which the server would refuse as INVALID_JSON', async () => {
    const { client, sent } = recordingClient([]);
    await client.bunkers.pause('bnk_1');
    await client.bunkers.resume('bnk_1');
    await client.bunkers.keepalive('bnk_1');
    await client.bunkers.delete('bnk_1');
    await client.workers.drain('wrk_1');
    await client.workers.resume('wrk_1');
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([
      `POST ${B}/bnk_1/pause`, `POST ${B}/bnk_1/resume`, `POST ${B}/bnk_1/keepalive`, `DELETE ${B}/bnk_1`,
      'POST /v1/modules/scaibunker/workers/wrk_1/drain', 'POST /v1/modules/scaibunker/workers/wrk_1/resume',
    ]);
    for (const request of sent) {
      expect(request.body).toBeUndefined();
      expect(request.headers['content-type']).toBeUndefined();
      expect(request.headers.authorization).toBe('Bearer sgk_test');
    }
  });

  it('sends create and exec bodies as JSON and returns the envelope data', async () => {
    const result = { exit_code: 3, signal: null, stdout: 'hi\n', stderr: '', duration_ms: 5, timed_out: false, truncated: false };
    const { client, sent } = recordingClient([{ status: 201, json: { status: 'ok', data: { id: 'bnk_1', status: 'running' } } }, { json: { status: 'ok', data: result } }]);
    expect(await client.bunkers.create({ image: 'minimal', memory_mb: 128 })).toMatchObject({ id: 'bnk_1', status: 'running' });
    expect(await client.bunkers.exec('bnk_1', { command: ['sh', '-c', 'echo hi; exit 3'], stdin: 'x' })).toEqual(result);
    expect(sent[0]).toMatchObject({ method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(sent[0]!.body!)).toEqual({ image: 'minimal', memory_mb: 128 });
    expect(sent[1]!.url.pathname).toBe(`${B}/bnk_1/exec`);
    expect(JSON.parse(sent[1]!.body!)).toEqual({ command: ['sh', '-c', 'echo hi; exit 3'], stdin: 'x' });
  });

  it('passes list filters as query parameters and walks every page with all()', async () => {
    const { client, sent } = recordingClient([
      { json: { status: 'ok', data: [{ id: 'bnk_1' }, { id: 'bnk_2' }], has_more: true, next_cursor: 'c2' } },
      { json: { status: 'ok', data: [{ id: 'bnk_3' }], has_more: false, next_cursor: null } },
    ]);
    const ids: string[] = [];
    for await (const bunker of client.all((o) => client.bunkers.list({ ...o, status: 'running', lifecycle: 'ephemeral' }), 2)) ids.push(bunker.id);
    expect(ids).toEqual(['bnk_1', 'bnk_2', 'bnk_3']);
    expect(sent.map((s) => Object.fromEntries(s.url.searchParams))).toEqual([
      { limit: '2', status: 'running', lifecycle: 'ephemeral' },
      { limit: '2', cursor: 'c2', status: 'running', lifecycle: 'ephemeral' },
    ]);
  });

  it('answers an error envelope with a ScaiError of the same code', async () => {
    const { client } = recordingClient([{ status: 409, json: { status: 'error', error: { code: 'BUNKER_NOT_RUNNING', message: 'The bunker is terminated.' }, meta: { request_id: 'req_1' } } }]);
    const error = await client.bunkers.exec('bnk_1', { command: 'true' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'BUNKER_NOT_RUNNING', message: 'The bunker is terminated.', requestId: 'req_1' });
  });

  it('returns the new worker with its token', async () => {
    const { client, sent } = recordingClient([{ status: 201, json: { status: 'ok', data: { id: 'wrk_1', name: 'w2', token: 'wrk_1.secret' } } }]);
    expect((await client.workers.create({ name: 'w2', labels: { zone: 'a' } })).token).toBe('wrk_1.secret');
    expect(JSON.parse(sent[0]!.body!)).toEqual({ name: 'w2', labels: { zone: 'a' } });
  });
});

describe('ScaiBunkerClient bunker networks', () => {
  const flow = (id: string) => ({
    bunker_id: 'bnk_1', flow_id: id, start: '2026-01-01T00:00:00.000Z', end: '2026-01-01T00:00:01.000Z', protocol: 'tcp',
    src: '10.0.0.2', sport: 40_000, dst: '93.184.216.34', dport: 443, bytes_out: 600, bytes_in: 5000, packets_out: 6, packets_in: 8,
    dns_name: 'example.com', verdict: 'allowed',
  });

  it('sends the network fields of create as given', async () => {
    const { client, sent } = recordingClient([]);
    await client.bunkers.create({ image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['pypi.org'], bandwidth_mbit: 100 });
    await client.bunkers.create({ image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'lab', spoof_guard: false, mac: '02:00:00:00:00:01' }] });
    expect(JSON.parse(sent[0]!.body!)).toEqual({ image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['pypi.org'], bandwidth_mbit: 100 });
    expect(JSON.parse(sent[1]!.body!)).toEqual({ image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'lab', spoof_guard: false, mac: '02:00:00:00:00:01' }] });
  });

  it('reads a bunker’s network with a bodiless GET and returns the envelope data', async () => {
    const network = {
      profile: 'registry', allowlist: null, bandwidth_mbit: null, guest: { mac: '02:00:00:00:00:02', address: '10.0.0.2', gateway: '10.0.0.1' },
      denied: { names: 1, connections: 0 }, recent_denials: [{ kind: 'dns', at: '2026-01-01T00:00:00.000Z', name: 'example.com', type: 1 }],
    };
    const { client, sent } = recordingClient([{ json: { status: 'ok', data: network } }]);
    expect(await client.bunkers.network('bnk_1')).toEqual(network);
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`GET ${B}/bnk_1/network`]);
    expect(sent[0]!.body).toBeUndefined();
    expect(sent[0]!.headers['content-type']).toBeUndefined();
  });

  it('pages the egress audit with limit and cursor, and walks every flow with all()', async () => {
    const { client, sent } = recordingClient([
      { json: { status: 'ok', data: [flow('f1'), flow('f2')], has_more: true, next_cursor: 'c2' } },
      { json: { status: 'ok', data: [flow('f3')], has_more: false, next_cursor: null } },
      { json: { status: 'ok', data: [], has_more: false, next_cursor: null } },
    ]);
    const ids: string[] = [];
    for await (const f of client.all((o) => client.bunkers.egressAudit('bnk_1', o), 2)) ids.push(f.flow_id);
    expect(ids).toEqual(['f1', 'f2', 'f3']);
    expect(await client.bunkers.egressAudit('bnk_1', { limit: 5, cursor: 'c9' })).toEqual({ data: [], has_more: false, next_cursor: null });
    expect(sent.map((s) => `${s.url.pathname}?${s.url.searchParams}`)).toEqual([
      `${B}/bnk_1/egress-audit?limit=2`, `${B}/bnk_1/egress-audit?limit=2&cursor=c2`, `${B}/bnk_1/egress-audit?limit=5&cursor=c9`,
    ]);
  });

  it('escapes the bunker id in the network paths', async () => {
    const { client, sent } = recordingClient([{ json: { status: 'ok', data: [], has_more: false, next_cursor: null } }]);
    await client.bunkers.egressAudit('../x');
    await client.bunkers.network('a/b');
    expect(sent.map((s) => s.url.pathname)).toEqual([`${B}/..%2Fx/egress-audit`, `${B}/a%2Fb/network`]);
  });
});
