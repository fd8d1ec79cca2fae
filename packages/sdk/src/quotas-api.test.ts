import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { recordingClient } from './testing/recording-client.js';


const Q = '/v1/modules/scaibunker/quota-profiles';
const ok = (data: unknown) => ({ json: { status: 'ok', data } });

describe('ScaiBunkerClient quotas', () => {
  it('creates, reads, changes and deletes a profile at the quota-profiles paths, sending null caps as null', async () => {
    const { client, sent } = recordingClient([
      { status: 201, json: { status: 'ok', data: { id: 'qp_1', name: 'small', tenant_id: null } } }, ok({ id: 'qp_1' }), ok({ id: 'qp_1', max_memory_mb: null }), ok({ id: 'qp_1' }),
    ]);
    expect(await client.quotas.createProfile({ name: 'small', tenant_id: null, max_concurrent_bunkers: 5, max_gpu_count: 0 })).toMatchObject({ id: 'qp_1', tenant_id: null });
    await client.quotas.getProfile('qp_1');
    expect(await client.quotas.updateProfile('qp_1', { max_memory_mb: null, max_disk_mb: 4096 })).toMatchObject({ max_memory_mb: null });
    await client.quotas.deleteProfile('qp_1');
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`POST ${Q}`, `GET ${Q}/qp_1`, `PATCH ${Q}/qp_1`, `DELETE ${Q}/qp_1`]);
    expect(JSON.parse(sent[0]!.body!)).toEqual({ name: 'small', tenant_id: null, max_concurrent_bunkers: 5, max_gpu_count: 0 });
    expect(JSON.parse(sent[2]!.body!)).toEqual({ max_memory_mb: null, max_disk_mb: 4096 });
    // The bodiless verbs send no JSON content-type, which the server would refuse as INVALID_JSON.
    for (const request of [sent[1]!, sent[3]!]) {
      expect(request.body).toBeUndefined();
      expect(request.headers['content-type']).toBeUndefined();
    }
  });

  it('pages profiles and a profile’s assignments with limit and cursor, and walks them with all()', async () => {
    const { client, sent } = recordingClient([
      { json: { status: 'ok', data: [{ id: 'qp_1' }], has_more: true, next_cursor: 'c2' } },
      { json: { status: 'ok', data: [{ id: 'qp_2' }], has_more: false, next_cursor: null } },
      { json: { status: 'ok', data: [{ id: 'qpa_1' }], has_more: false, next_cursor: null } },
    ]);
    const ids: string[] = [];
    for await (const profile of client.all((o) => client.quotas.listProfiles(o), 1)) ids.push(profile.id);
    expect(ids).toEqual(['qp_1', 'qp_2']);
    expect(await client.quotas.listAssignments('qp_1', { limit: 10, cursor: 'c9' })).toEqual({ data: [{ id: 'qpa_1' }], has_more: false, next_cursor: null });
    expect(sent.map((s) => `${s.url.pathname}?${s.url.searchParams}`)).toEqual([`${Q}?limit=1`, `${Q}?limit=1&cursor=c2`, `${Q}/qp_1/assignments?limit=10&cursor=c9`]);
  });

  it('assigns with a JSON body and unassigns by the assignment id', async () => {
    const assignment = { id: 'qpa_1', profile_id: 'qp_1', target_kind: 'group', target_id: 'grp_1', mode: 'per_user', created_at: '2025-01-01T00:00:00.000Z' };
    const { client, sent } = recordingClient([{ status: 201, json: { status: 'ok', data: assignment } }, ok(assignment)]);
    expect(await client.quotas.assign('qp_1', { target_kind: 'group', target_id: 'grp_1', mode: 'per_user' })).toEqual(assignment);
    expect(await client.quotas.unassign('qp_1', 'qpa_1')).toEqual(assignment);
    expect(sent.map((s) => `${s.method} ${s.url.pathname}`)).toEqual([`POST ${Q}/qp_1/assignments`, `DELETE ${Q}/qp_1/assignments/qpa_1`]);
    expect(JSON.parse(sent[0]!.body!)).toEqual({ target_kind: 'group', target_id: 'grp_1', mode: 'per_user' });
    expect(sent[1]!.body).toBeUndefined();
  });

  it('reads usage for the caller without a query, and for another user with user_id', async () => {
    const row = {
      profile_id: 'qp_1', profile_name: 'small', assignment_id: 'qpa_1', bucket: 'user:usr_1',
      usage: { bunkers: 2, persistent_bunkers: 0, cpu_millicores: 500, memory_mb: 256, disk_mb: 512, gpu_count: 0 },
      cap: { bunkers: 5, persistent_bunkers: null, cpu_millicores: null, memory_mb: null, disk_mb: null, gpu_count: 0 },
      headroom: { bunkers: 3, persistent_bunkers: null, cpu_millicores: null, memory_mb: null, disk_mb: null, gpu_count: 0 },
    };
    const { client, sent } = recordingClient([ok([row]), ok([])]);
    expect(await client.quotas.usage()).toEqual([row]);
    expect(await client.quotas.usage({ userId: 'usr_2' })).toEqual([]);
    expect(sent.map((s) => s.url.href)).toEqual([`http://api.test${Q}/usage`, `http://api.test${Q}/usage?user_id=usr_2`]);
  });

  it('escapes ids in paths, so an id cannot reach another route', async () => {
    const { client, sent } = recordingClient([]);
    await client.quotas.getProfile('../usage');
    await client.quotas.unassign('qp_1', 'a/b');
    expect(sent.map((s) => s.url.pathname)).toEqual([`${Q}/..%2Fusage`, `${Q}/qp_1/assignments/a%2Fb`]);
  });

  it('answers an error envelope with a ScaiError of the same code', async () => {
    const { client } = recordingClient([{ status: 404, json: { status: 'error', error: { code: 'NOT_FOUND', message: 'No such quota profile.' }, meta: { request_id: 'req_1' } } }]);
    const error = await client.quotas.getProfile('qp_missing').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'No such quota profile.', requestId: 'req_1' });
  });
});
