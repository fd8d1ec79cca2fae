import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig, startServer, type RunningServer } from '@scaibunker/controller';
import { createTestDatabase, testDatabaseKind } from '@scaibunker/db/testing';
import { DEFAULT_CACHE_DIR, VmRuntime, WorkerDaemon } from '@scaibunker/worker';

/**
 * The product end to end, in one process: a real controller on a real database, a real
 * worker daemon dialing it over a real WebSocket, real microVMs. Everything through HTTP.
 */
const execFileAsync = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
    probe.once('error', reject);
  });
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('bunker lifecycle through the API', () => {
  let server: RunningServer;
  let daemon: WorkerDaemon;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let adminKey: string;
  let workerDataDir: string;
  const quiet = { info: () => undefined, warn: () => undefined };

  async function call(method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server.url}/v1/modules/scaibunker${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: await response.json() };
  }

  let controllerConfig: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-e2e-'));
    // A fixed port, so a restarted controller is where the worker redials.
    const port = await freePort();
    controllerConfig = { ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: `127.0.0.1:${port}`, SCAIBUNKER_LOG_LEVEL: 'silent' }), database: database.config };
    server = await startServer(controllerConfig);
    adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    workerDataDir = join(dataDir, 'worker');
    const runtime = await VmRuntime.open({ dataDir: workerDataDir, cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
    daemon = new WorkerDaemon({ controllerUrl: server.url, token: await server.localWorkerToken(), runtime, version: 'test', log: quiet });
    await daemon.start();
  }, 180_000);
  afterAll(async () => {
    await daemon?.stop();
    await server?.close();
    await database?.close();
  });

  it('lists the worker that dialed in, online, with capacity and its ready images', async () => {
    const { status, body } = await call('GET', '/workers');
    expect(status).toBe(200);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ name: 'local', status: 'online', images: { minimal: 'ready' } });
    expect(body.data[0].capacity.cpu_millicores).toBeGreaterThan(0);
    expect(Date.parse(body.data[0].last_heartbeat)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('creates a running bunker, runs commands as the image’s user (root on request), honours env_vars, and ends it', async () => {
    const created = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, disk_mb: 256, env_vars: { GREETING: 'bonjour' }, label_set: { team: 'qa' } });
    expect(created.status).toBe(201);
    const bunker = created.body.data;
    expect(bunker).toMatchObject({ status: 'running', image: 'minimal', lifecycle_mode: 'ephemeral', max_lifetime_s: 900, idle_timeout_s: 300, label_set: { team: 'qa' }, env_var_names: ['GREETING'] });
    expect(bunker.worker_id).toMatch(/^wrk_/);

    const exec = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo hi; echo "$GREETING" >&2; id -u; exit 3' });
    expect(exec.status).toBe(200);
    expect(exec.body.data).toMatchObject({ exit_code: 3, signal: null, stdout: 'hi\n1000\n', stderr: 'bonjour\n', timed_out: false, truncated: false });

    const asRoot = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'id -u; echo "$HOME"; pwd', user: 'root' });
    expect(asRoot.body.data).toMatchObject({ exit_code: 0, stdout: '0\n/root\n/root\n' });
    const asUser = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo "$HOME"; pwd' });
    expect(asUser.body.data.stdout).toBe('/home/user\n/home/user\n');
    const unknownUser = await call('POST', `/bunkers/${bunker.id}/exec`, { command: ['true'], user: 'ghost' });
    expect(unknownUser.status).toBe(422);
    expect(unknownUser.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'user' }] });

    const withStdin = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'tr a-z A-Z', stdin: 'shout\n' });
    expect(withStdin.body.data.stdout).toBe('SHOUT\n');

    const timedOut = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'sleep 30', timeout_s: 1 });
    expect(timedOut.body.data).toMatchObject({ timed_out: true });

    await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo kept > /home/user/before-pause' });
    const ticker = (await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'while true; do echo tick; sleep 1; done', background: true })).body.data.pid;
    expect((await call('POST', `/bunkers/${bunker.id}/pause`)).body.data.status).toBe('paused');
    const whilePaused = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'true' });
    expect(whilePaused.status).toBe(409);
    expect(whilePaused.body.error.code).toBe('BUNKER_NOT_RUNNING');
    expect((await call('POST', `/bunkers/${bunker.id}/resume`)).body.data.status).toBe('running');
    expect((await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo back' })).body.data.stdout).toBe('back\n');
    // What was there before the pause still is: the file, and the background process.
    expect((await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'cat /home/user/before-pause' })).body.data.stdout).toBe('kept\n');
    const processes = (await call('GET', `/bunkers/${bunker.id}/processes`)).body.data as { pid: number; exit: unknown }[];
    expect(processes.find((p) => p.pid === ticker)).toMatchObject({ exit: null });

    const worker = (await call('GET', `/workers/${bunker.worker_id}`)).body.data;
    expect(worker.usage).toMatchObject({ bunkers: 1, memory_mb: 128 });

    const deleted = await call('DELETE', `/bunkers/${bunker.id}`);
    expect(deleted.body.data).toMatchObject({ status: 'terminated' });
    expect(daemon.bunkers.ids()).not.toContain(bunker.id);
    expect((await call('GET', `/workers/${bunker.worker_id}`)).body.data.usage.bunkers).toBe(0);
    const afterEnd = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'true' });
    expect(afterEnd.body.error.code).toBe('BUNKER_NOT_RUNNING');
    // Deleting again changes nothing.
    expect((await call('DELETE', `/bunkers/${bunker.id}`)).body.data.status).toBe('terminated');
  }, 180_000);

  it('moves a 1 GiB file in and out, streamed byte for byte with flat memory, and manages paths', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, disk_mb: 2048 })).body.data;
    const base = `${server.url}/v1/modules/scaibunker/bunkers/${bunker.id}/files`;
    const auth = { authorization: `Bearer ${adminKey}` };
    // The gigabyte runs once (the SQLite pass); the PostgreSQL pass moves 64 MiB, since the
    // bytes never touch the database.
    const size = (testDatabaseKind() === 'postgres' ? 64 : 1024) * 1024 * 1024;

    // The client is curl, another process: this one holds the controller and the worker, and
    // its memory is what must stay flat while the gigabyte goes through both, twice.
    const dir = mkdtempSync(join(tmpdir(), 'scaibunker-files-'));
    const source = join(dir, 'up.bin');
    execFileSync('sh', ['-c', `head -c ${size} /dev/urandom > ${source}`]);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, process.memoryUsage().rss); }, 50);
    try {
      const curl = (args: string[]) => execFileAsync('curl', ['-sS', '--fail-with-body', '-H', `Authorization: Bearer ${adminKey}`, ...args], { maxBuffer: 1 << 20 });
      const put = await curl(['-T', source, '-H', 'content-type: application/octet-stream', `${base}?path=/home/user/big.bin&mode=0640`]);
      expect(JSON.parse(put.stdout)).toMatchObject({ status: 'ok', data: { path: '/home/user/big.bin', size } });

      const head = await fetch(`${base}?path=/home/user/big.bin`, { method: 'HEAD', headers: auth });
      expect([head.status, head.headers.get('content-length'), head.headers.get('x-file-type'), head.headers.get('x-file-mode')]).toEqual([200, String(size), 'file', '0640']);

      await curl(['-o', join(dir, 'down.bin'), `${base}?path=/home/user/big.bin`]);
      const [sent, received] = await Promise.all([sha256File(source), sha256File(join(dir, 'down.bin'))]);
      expect(received).toBe(sent);
    } finally {
      clearInterval(sampler);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(rssPeak - rssBefore).toBeLessThan(64 * 1024 * 1024);

    // What the API writes belongs to the image's user, so the user's commands can change it.
    const owner = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'stat -c %U /home/user/big.bin' });
    expect(owner.body.data.stdout).toBe('user\n');

    expect((await call('POST', `/bunkers/${bunker.id}/files/mkdir`, { path: '/tmp/a/b/c' })).status).toBe(200);
    await fetch(`${base}?path=/tmp/a/b/c/note.json`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: '{"raw": true}' });
    const note = await fetch(`${base}?path=/tmp/a/b/c/note.json`, { headers: auth });
    expect(await note.text()).toBe('{"raw": true}');
    const listing = await call('GET', `/bunkers/${bunker.id}/files?path=/tmp/a/b/c&list=true`);
    expect(listing.body.data.entries).toEqual([expect.objectContaining({ name: 'note.json', type: 'file', size: 13 })]);

    const missing = await call('GET', `/bunkers/${bunker.id}/files?path=/nope/nothing`);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'GUEST_PATH_NOT_FOUND']);
    const notEmpty = await call('DELETE', `/bunkers/${bunker.id}/files?path=/tmp/a`);
    expect(notEmpty.body.error.code).toBe('GUEST_CONFLICT');
    expect((await call('DELETE', `/bunkers/${bunker.id}/files?path=/tmp/a&recursive=true`)).status).toBe(200);
    const relative = await call('GET', `/bunkers/${bunker.id}/files?path=etc/passwd`);
    expect(relative.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [expect.objectContaining({ field: 'query.path' })] });
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 600_000);

  it('streams exec output as NDJSON, runs background processes that outlive the request, and signals and feeds them', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).body.data;
    const base = `${server.url}/v1/modules/scaibunker/bunkers/${bunker.id}`;
    const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
    const events = async (response: Response) => (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

    const streamed = await fetch(`${base}/exec`, {
      method: 'POST', headers: { ...headers, accept: 'application/x-ndjson' },
      body: JSON.stringify({ command: 'for i in 1 2 3; do echo line$i; sleep 0.1; done; echo oops >&2; exit 4' }),
    });
    expect(streamed.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = await events(streamed);
    expect(lines[0]).toEqual({ started: { pid: expect.any(Number) } });
    expect(lines.filter((e) => 'stdout' in e).map((e) => e.stdout).join('')).toBe('line1\nline2\nline3\n');
    expect(lines.filter((e) => 'stderr' in e).map((e) => e.stderr).join('')).toBe('oops\n');
    expect(lines.at(-1)).toEqual({ exit: { exit_code: 4, signal: null, timed_out: false } });
    // The exit always comes after the last output (it once overtook it, now and then).
    for (let i = 0; i < 25; i++) {
      const quick = await events(await fetch(`${base}/exec`, { method: 'POST', headers: { ...headers, accept: 'application/x-ndjson' }, body: JSON.stringify({ command: ['echo', `run-${i}`] }) }));
      expect(quick.map((e) => Object.keys(e)[0])).toEqual(['started', 'stdout', 'exit']);
      expect(quick[1]).toEqual({ stdout: `run-${i}\n` });
    }

    // A background reader: its stdin arrives in later requests, its output is read by pid.
    const started = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'while read l; do echo "got $l"; done; echo bye', background: true });
    expect(started.body.data).toEqual({ pid: expect.any(Number), background: true });
    const pid = started.body.data.pid;
    expect((await call('POST', `/bunkers/${bunker.id}/processes/${pid}/stdin`, { data: 'a\nb\n' })).status).toBe(200);
    await call('POST', `/bunkers/${bunker.id}/processes/${pid}/stdin`, { eof: true });
    const followed = await events(await fetch(`${base}/processes/${pid}/output?follow=true`, { headers: { authorization: headers.authorization } }));
    expect(followed.filter((e) => 'stdout' in e).map((e) => e.stdout).join('')).toBe('got a\ngot b\nbye\n');
    expect(followed.at(-1)).toEqual({ exit: { exit_code: 0, signal: null, timed_out: false } });

    // Raw bytes streamed into stdin with PUT (kept open with eof=false, closed by the next call);
    // once the process has exited, its stdin answers CONFLICT.
    const counter = (await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'wc -c', background: true })).body.data.pid;
    const stdinUrl = `${base}/processes/${counter}/stdin`;
    const put = (body: Buffer, query = '') => fetch(`${stdinUrl}${query}`, { method: 'PUT', headers: { authorization: headers.authorization, 'content-type': 'application/octet-stream' }, body });
    expect(await (await put(Buffer.alloc(300_000, 0xff), '?eof=false')).json()).toMatchObject({ status: 'ok', data: { pid: counter, bytes: 300_000 } });
    expect((await put(Buffer.alloc(5, 0))).status).toBe(200);
    const counted = await events(await fetch(`${base}/processes/${counter}/output?follow=true`, { headers: { authorization: headers.authorization } }));
    expect(counted.filter((e) => 'stdout' in e).map((e) => e.stdout).join('').trim()).toBe('300005');
    const late = await put(Buffer.from('x'));
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('CONFLICT');

    const sleeper = (await call('POST', `/bunkers/${bunker.id}/exec`, { command: ['sleep', '60'], background: true })).body.data.pid;
    expect((await call('POST', `/bunkers/${bunker.id}/processes/${sleeper}/signal`, { signal: 'SIGTERM' })).status).toBe(200);
    const ended = await events(await fetch(`${base}/processes/${sleeper}/output?follow=true`, { headers: { authorization: headers.authorization } }));
    expect(ended.at(-1)).toEqual({ exit: { exit_code: null, signal: 'SIGTERM', timed_out: false } });

    // A streaming exec whose client goes away is killed, not left running.
    const abort = new AbortController();
    const orphan = await fetch(`${base}/exec`, { method: 'POST', headers: { ...headers, accept: 'application/x-ndjson' }, body: JSON.stringify({ command: ['sleep', '30'] }), signal: abort.signal });
    const reader = orphan.body!.getReader();
    const first = JSON.parse(new TextDecoder().decode((await reader.read()).value).split('\n')[0]!) as { started: { pid: number } };
    abort.abort();
    let orphanExit: unknown = null;
    for (let i = 0; i < 50 && !orphanExit; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const listed = (await call('GET', `/bunkers/${bunker.id}/processes`)).body.data as { pid: number; exit: unknown }[];
      orphanExit = listed.find((p) => p.pid === first.started.pid)?.exit;
    }
    expect(orphanExit).toEqual({ exit_code: null, signal: 'SIGKILL', timed_out: false });

    const listed = (await call('GET', `/bunkers/${bunker.id}/processes`)).body.data;
    expect(listed.map((p: { pid: number }) => p.pid)).toEqual(expect.arrayContaining([pid, sleeper]));
    expect((await call('POST', `/bunkers/${bunker.id}/processes/99999/signal`, { signal: 'SIGKILL' })).body.error.code).toBe('NOT_FOUND');
    expect((await call('POST', `/bunkers/${bunker.id}/processes/${pid}/signal`, { signal: 'SIGNOPE' })).body.error.code).toBe('VALIDATION_ERROR');
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 120_000);

  it('opens a WebSocket shell on a PTY, resizes it, survives a dropped socket, and reports the exit', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).body.data;
    const url = `${server.url.replace('http', 'ws')}/v1/modules/scaibunker/bunkers/${bunker.id}/shell`;
    const open = (query = '') => {
      const socket = new WebSocket(`${url}${query}`, { headers: { authorization: `Bearer ${adminKey}` } });
      const state = { text: '', controls: [] as Record<string, unknown>[], closed: null as number | null };
      socket.on('message', (data: Buffer, binary: boolean) => {
        if (binary) state.text += data.toString('utf8');
        else state.controls.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
      });
      socket.on('close', (code) => { state.closed = code; });
      return { socket, state };
    };
    const until = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!check()) throw new Error(`timed out waiting for ${what}`);
    };

    const first = open('?cols=100&rows=30');
    await until(() => first.state.controls.some((c) => c.type === 'session'), 'the session id');
    const session = first.state.controls.find((c) => c.type === 'session')!.id as string;
    first.socket.send(Buffer.from('echo "hello-$((6*7))"; stty size\n'));
    await until(() => first.state.text.includes('hello-42') && first.state.text.includes('30 100'), 'output and the initial size');
    first.socket.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    await new Promise((r) => setTimeout(r, 200));
    first.socket.send(Buffer.from('stty size; id -un\n'));
    await until(() => first.state.text.includes('40 120') && first.state.text.includes('user'), 'the new size');
    first.socket.terminate(); // the client drops; the shell lives on

    const again = open(`?session=${session}`);
    await until(() => again.state.text.includes('hello-42'), 'the replayed output');
    again.socket.send(Buffer.from('exit 5\n'));
    await until(() => again.state.closed !== null, 'the close');
    expect(again.state.controls.at(-1)).toEqual({ type: 'exit', exit_code: 5, signal: null, timed_out: false });
    expect(again.state.closed).toBe(1000);

    // Without an upgrade, or without a key, it answers in the envelope.
    expect((await call('GET', `/bunkers/${bunker.id}/shell`)).body.error.code).toBe('UPGRADE_REQUIRED');
    const anonymous = await fetch(`${server.url}/v1/modules/scaibunker/bunkers/${bunker.id}/shell`);
    expect(anonymous.status).toBe(401);
    const audit = (await fetch(`${server.url}/v1/audit?action=bunker.shell`, { headers: { authorization: `Bearer ${adminKey}` } }).then((r) => r.json())) as { data: { target_id: string }[] };
    expect(audit.data.filter((row) => row.target_id === bunker.id)).toHaveLength(2);
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 120_000);

  it('keeps a bunker running through a restart of its worker process, which adopts the VM', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).body.data;
    await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo before > /tmp/state' });
    // The worker process goes away (an upgrade): its VMs run on, detached.
    await daemon.stop({ keepBunkers: true });
    const runtime = await VmRuntime.open({ dataDir: workerDataDir, cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
    daemon = new WorkerDaemon({ controllerUrl: server.url, token: await server.localWorkerToken(), runtime, version: 'test', log: quiet });
    await daemon.start();
    expect(daemon.bunkers.ids()).toEqual([bunker.id]);
    expect((await call('GET', `/bunkers/${bunker.id}`)).body.data.status).toBe('running');
    const after = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'cat /tmp/state' });
    expect(after.body.data.stdout).toBe('before\n');
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 120_000);

  it('keeps a bunker running through a controller restart: the worker redials and re-attaches it', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).body.data;
    await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'echo kept > /tmp/state' });
    const pid = daemon.bunkers.locate(bunker.id).pid;
    await server.close();
    const restartedAt = new Date().toISOString();
    server = await startServer(controllerConfig);
    // The worker notices the dropped link, redials with backoff and says hello again.
    let worker = (await call('GET', `/workers/${bunker.worker_id}`)).body.data;
    for (let i = 0; i < 150 && !(worker.status === 'online' && worker.connected_at > restartedAt); i++) {
      await new Promise((r) => setTimeout(r, 100));
      worker = (await call('GET', `/workers/${bunker.worker_id}`)).body.data;
    }
    expect(worker).toMatchObject({ status: 'online' });
    expect((await call('GET', `/bunkers/${bunker.id}`)).body.data.status).toBe('running');
    expect(daemon.bunkers.locate(bunker.id).pid).toBe(pid); // the same VM, never restarted
    const after = await call('POST', `/bunkers/${bunker.id}/exec`, { command: 'cat /tmp/state' });
    expect(after.body.data.stdout).toBe('kept\n');
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 120_000);

  it('reaps an idle bunker after idle_timeout_s, and spares one kept busy', async () => {
    const idle = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, idle_timeout_s: 10 })).body.data;
    const busy = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, idle_timeout_s: 10 })).body.data;
    const started = Date.now();
    let idleNow = idle;
    while (idleNow.status === 'running' && Date.now() - started < 40_000) {
      await new Promise((r) => setTimeout(r, 2000));
      await call('POST', `/bunkers/${busy.id}/exec`, { command: 'true' }); // activity
      idleNow = (await call('GET', `/bunkers/${idle.id}`)).body.data;
    }
    expect(idleNow.status).toBe('terminated');
    expect(Date.now() - started).toBeGreaterThanOrEqual(9000);
    expect((await call('GET', `/bunkers/${busy.id}`)).body.data.status).toBe('running');
    expect(daemon.bunkers.ids()).not.toContain(idle.id);
    await call('DELETE', `/bunkers/${busy.id}`);
  }, 60_000);

  it('fails a bunker whose VM dies, with the reason, and frees its worker', async () => {
    const bunker = (await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128 })).body.data;
    process.kill(daemon.bunkers.locate(bunker.id).pid, 'SIGKILL');
    let seen = bunker;
    for (let i = 0; i < 100 && seen.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await call('GET', `/bunkers/${bunker.id}`)).body.data;
    }
    expect(seen).toMatchObject({ status: 'failed', failure_reason: expect.stringContaining('the VMM exited') });
    expect((await call('GET', `/workers/${bunker.worker_id}`)).body.data.usage.bunkers).toBe(0);
  }, 60_000);

  it('answers the spec’s errors for what this step cannot honour or the caller may not ask', async () => {
    const unknownImage = await call('POST', '/bunkers', { image: 'no-such-image' });
    expect(unknownImage.body.error.code).toBe('NO_SUITABLE_WORKER');
    const tooBig = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 262_144 });
    expect(tooBig.body.error.code).toBe('WORKER_UNAVAILABLE');
    // This platform's worker builds no networks (vm-network.test.ts has the ones that do).
    const network = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'registry' });
    expect(network.body.error).toMatchObject({ code: 'NO_SUITABLE_WORKER', message: expect.stringContaining('networking') });
    const noBridge = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'b' }] });
    expect(noBridge.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'interfaces[0].bridge_name' }] });
    const interfaces = await call('POST', '/bunkers', { image: 'minimal', interfaces: [{ if_name: 'eth1', bridge_name: 'b' }] });
    expect(interfaces.body.error.code).toBe('INTERFACES_NOT_ALLOWED');
    const transit = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'transit' });
    expect(transit.body.error.code).toBe('TRANSIT_MISSING_INTERFACES');
    const bad = await call('POST', '/bunkers', { image: 'minimal', cpu_millicores: '1000', surprise: true });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['cpu_millicores', 'surprise']);
    // Nothing was left behind by the refusals.
    expect((await call('GET', '/bunkers?status=pending')).body.data).toEqual([]);
  });
});
