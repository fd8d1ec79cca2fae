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
