import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { recordingClient } from './testing/recording-client.js';

const BR = '/v1/modules/scaibunker/bridges';
const bridge = { id: 'br_1', tenant_id: 'ten_1', name: 'lab', worker_id: 'wrk_1', created_by: 'usr_1', created_at: '2026-01-01T00:00:00.000Z' };

describe('ScaiBunkerClient bridges', () => {
  it('creates a bridge with a JSON body, on a named worker when given, and returns it', async () => {
    const { client, sent } = recordingClient([{ status: 201, json: { status: 'ok', data: bridge } }, { status: 201, json: { status: 'ok', data: bridge } }]);
    expect(await client.bridges.create({ name: 'lab' })).toEqual(bridge);
    await client.bridges.create({ name: 'lab', worker_id: 'wrk_1' });
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`POST ${BR}`, `POST ${BR}`]);
    expect(sent[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent[0]!.body!)).toEqual({ name: 'lab' });
    expect(JSON.parse(sent[1]!.body!)).toEqual({ name: 'lab', worker_id: 'wrk_1' });
  });

  it('reads and deletes a bridge by id, sending no body or JSON content-type, which the server would refuse as INVALID_JSON', async () => {
    const { client, sent } = recordingClient([{ json: { status: 'ok', data: bridge } }, { json: { status: 'ok', data: bridge } }]);
    expect(await client.bridges.get('br_1')).toEqual(bridge);
    expect(await client.bridges.delete('br_1')).toEqual(bridge);
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`GET ${BR}/br_1`, `DELETE ${BR}/br_1`]);
    for (const request of sent) {
      expect(request.body).toBeUndefined();
      expect(request.headers['content-type']).toBeUndefined();
    }
  });

  it('pages bridges with limit and cursor, and walks them with all()', async () => {
    const { client, sent } = recordingClient([
      { json: { status: 'ok', data: [bridge], has_more: true, next_cursor: 'c2' } },
      { json: { status: 'ok', data: [{ ...bridge, id: 'br_2', name: 'wan' }], has_more: false, next_cursor: null } },
      { json: { status: 'ok', data: [], has_more: false, next_cursor: null } },
    ]);
    const names: string[] = [];
    for await (const b of client.all((o) => client.bridges.list(o), 1)) names.push(b.name);
    expect(names).toEqual(['lab', 'wan']);
    expect(await client.bridges.list({ limit: 10, cursor: 'c9' })).toEqual({ data: [], has_more: false, next_cursor: null });
    expect(sent.map((s) => `${s.url.pathname}?${s.url.searchParams}`)).toEqual([`${BR}?limit=1`, `${BR}?limit=1&cursor=c2`, `${BR}?limit=10&cursor=c9`]);
  });

  it('escapes ids in paths, so an id cannot reach another route', async () => {
    const { client, sent } = recordingClient([]);
    await client.bridges.get('../bunkers');
    expect(sent[0]!.url.pathname).toBe(`${BR}/..%2Fbunkers`);
  });

  it('answers the worker’s NOT_SUPPORTED with a ScaiError of the same code and message', async () => {
    const { client } = recordingClient([{ status: 501, json: { status: 'error', error: { code: 'NOT_SUPPORTED', message: 'This worker has no bunker networking set up.' }, meta: { request_id: 'req_1' } } }]);
    const error = await client.bridges.create({ name: 'lab' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'NOT_SUPPORTED', message: 'This worker has no bunker networking set up.', requestId: 'req_1' });
  });
});
