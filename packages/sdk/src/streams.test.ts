import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { ScaiBunkerClient } from './client.js';
import type { ProcessEvent } from './processes-api.js';

interface Sent {
  method: string;
  url: URL;
  headers: Record<string, string>;
  init: RequestInit & { duplex?: string };
  bytes: Buffer | undefined;
}

/** A client whose fetch records each request (reading a streamed body to its end) and answers with the next scripted Response. */
function recording(answers: Array<() => Response>) {
  const sent: Sent[] = [];
  const fetchImpl = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let bytes: Buffer | undefined;
    if (typeof init.body === 'string') bytes = Buffer.from(init.body);
    else if (init.body instanceof Uint8Array) bytes = Buffer.from(init.body);
    else if (init.body) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of init.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
      bytes = Buffer.concat(chunks);
    }
    sent.push({ method: init.method ?? 'GET', url: new URL(String(input)), headers: { ...(init.headers as Record<string, string>) }, init, bytes });
    return answers.shift()?.() ?? Response.json({ status: 'ok', data: {} });
  };
  return { client: new ScaiBunkerClient({ host: 'http://api.test', apiKey: 'sgk_test', fetch: fetchImpl as typeof fetch }), sent };
}

const B = '/v1/modules/scaibunker/bunkers';
const ndjson = (...lines: string[]) => () => new Response(lines.join(''), { headers: { 'content-type': 'application/x-ndjson' } });
const ok = (data: unknown) => () => Response.json({ status: 'ok', data });

describe('ScaiBunkerClient streaming exec and processes', () => {
  it('asks for NDJSON and yields the exec events as typed values', async () => {
    const { client, sent } = recording([ndjson('{"started":{"pid":7}}\n{"stdout":"a\\n"}\n{"std', 'err":"b"}\n{"exit":{"exit_code":2,"signal":null,"timed_out":false}}\n')]);
    const events: ProcessEvent[] = [];
    for await (const event of client.bunkers.execStream('bnk_1', { command: 'echo a; echo b >&2; exit 2' })) events.push(event);
    expect(events).toEqual([{ started: { pid: 7 } }, { stdout: 'a\n' }, { stderr: 'b' }, { exit: { exit_code: 2, signal: null, timed_out: false } }]);
    expect(sent[0]).toMatchObject({ method: 'POST', headers: { accept: 'application/x-ndjson', 'content-type': 'application/json' } });
    expect(sent[0]!.url.pathname).toBe(`${B}/bnk_1/exec`);
  });

  it('throws the envelope’s ScaiError when a streaming exec is refused', async () => {
    const { client } = recording([() => Response.json({ status: 'error', error: { code: 'BUNKER_NOT_RUNNING', message: 'paused' } }, { status: 409 })]);
    const stream = client.bunkers.execStream('bnk_1', { command: 'true' });
    await expect(stream.next()).rejects.toMatchObject({ code: 'BUNKER_NOT_RUNNING' });
  });

  it('starts a background command and answers its pid', async () => {
    const { client, sent } = recording([ok({ pid: 42, background: true })]);
    expect(await client.bunkers.startBackground('bnk_1', { command: ['sleep', '9'] })).toEqual({ pid: 42 });
    expect(JSON.parse(sent[0]!.bytes!.toString())).toEqual({ command: ['sleep', '9'], background: true });
  });

  it('lists, follows, signals and feeds processes on their routes, sending no JSON content-type without a body', async () => {
    const { client, sent } = recording([ok([]), ndjson('{"dropped":10}\n{"stdout":"x"}\n'), ok({ pid: 3, signal: 15 }), ok({ pid: 3 })]);
    await client.processes.list('bnk_1');
    const events: ProcessEvent[] = [];
    for await (const event of client.processes.output('bnk_1', 3, { follow: true })) events.push(event);
    expect(events).toEqual([{ dropped: 10 }, { stdout: 'x' }]);
    await client.processes.signal('bnk_1', 3, 'SIGTERM');
    await client.processes.stdin('bnk_1', 3, { data: 'hi\n', eof: true });
    expect(sent.map((s) => `${s.method} ${s.url.pathname}${s.url.search}`)).toEqual([
      `GET ${B}/bnk_1/processes`, `GET ${B}/bnk_1/processes/3/output?follow=true`, `POST ${B}/bnk_1/processes/3/signal`, `POST ${B}/bnk_1/processes/3/stdin`,
    ]);
    expect(sent[0]!.headers['content-type']).toBeUndefined();
    expect(sent[1]!.headers['content-type']).toBeUndefined();
    expect(JSON.parse(sent[2]!.bytes!.toString())).toEqual({ signal: 'SIGTERM' });
    expect(JSON.parse(sent[3]!.bytes!.toString())).toEqual({ data: 'hi\n', eof: true });
  });
});

describe('ScaiBunkerClient files', () => {
  it('streams a Node Readable up through a given fetch as raw bytes in half duplex, with the mode in octal', async () => {
    const { client, sent } = recording([ok({ path: '/tmp/f', size: 6 })]);
    expect(await client.files.write('bnk_1', '/tmp/f', Readable.from([Buffer.from('abc'), Buffer.from('def')]), { mode: 0o640 })).toEqual({ path: '/tmp/f', size: 6 });
    expect(sent[0]).toMatchObject({ method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, init: { duplex: 'half' } });
    expect(Object.fromEntries(sent[0]!.url.searchParams)).toEqual({ path: '/tmp/f', mode: '0640' });
    expect(sent[0]!.bytes!.toString()).toBe('abcdef');
  });

  it('sends whole bytes without a stream', async () => {
    const { client, sent } = recording([ok({ path: '/tmp/f', size: 2 })]);
    await client.files.write('bnk_1', '/tmp/f', new TextEncoder().encode('hi'));
    expect(sent[0]!.init.duplex).toBeUndefined();
    expect(sent[0]!.url.searchParams.has('mode')).toBe(false);
  });

  it('reads a file as a stream', async () => {
    const { client, sent } = recording([() => new Response('file bytes')]);
    expect(await new Response(await client.files.read('bnk_1', '/etc/hostname')).text()).toBe('file bytes');
    expect(sent[0]!.url.searchParams.get('path')).toBe('/etc/hostname');
  });

  it('reads stat from HEAD headers', async () => {
    const { client, sent } = recording([() => new Response(null, { headers: { 'content-length': '12', 'x-file-type': 'file', 'x-file-mode': '0644', 'last-modified': 'Tue, 01 Jul 2025 10:00:00 GMT' } })]);
    expect(await client.files.stat('bnk_1', '/a')).toEqual({ type: 'file', size: 12, mode: '0644', modified_at: '2025-07-01T10:00:00.000Z' });
    expect(sent[0]!.method).toBe('HEAD');
  });

  it('learns the code of a refused stat with a GET, since a HEAD answer has no body', async () => {
    const { client, sent } = recording([
      () => new Response(null, { status: 404 }),
      () => Response.json({ status: 'error', error: { code: 'GUEST_PATH_NOT_FOUND', message: 'No such path.' } }, { status: 404 }),
    ]);
    const error = await client.files.stat('bnk_1', '/nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScaiError);
    expect(error).toMatchObject({ code: 'GUEST_PATH_NOT_FOUND' });
    expect(sent.map((s) => s.method)).toEqual(['HEAD', 'GET']);
  });

  it('lists, removes and makes directories', async () => {
    const { client, sent } = recording([ok({ path: '/d', entries: [], truncated: false }), ok({ path: '/d' }), ok({ path: '/d/e' })]);
    await client.files.list('bnk_1', '/d');
    await client.files.remove('bnk_1', '/d', { recursive: true });
    await client.files.mkdir('bnk_1', '/d/e', { mode: 0o700 });
    expect(sent.map((s) => `${s.method} ${s.url.pathname}${s.url.search}`)).toEqual([
      `GET ${B}/bnk_1/files?path=%2Fd&list=true`, `DELETE ${B}/bnk_1/files?path=%2Fd&recursive=true`, `POST ${B}/bnk_1/files/mkdir`,
    ]);
    expect(sent[1]!.headers['content-type']).toBeUndefined();
    expect(JSON.parse(sent[2]!.bytes!.toString())).toEqual({ path: '/d/e', mode: '0700' });
  });
});
