import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from './cli-process.js';
import { serveForCli, type ServedForCli } from './server-process.js';

/** A CLI run whose output is seen as it arrives, each stdout chunk with the time it came. */
interface LiveCli {
  child: ChildProcess;
  stdout: () => string;
  chunks: { at: number; text: string }[];
  exited: Promise<CliResult & { at: number }>;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv): LiveCli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: { at: number; text: string }[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); chunks.push({ at: Date.now(), text: c.toString() }); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin!.end();
  const exited = new Promise<CliResult & { at: number }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr, at: Date.now() })));
  return { child, stdout: () => stdout, chunks, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Streaming exec, background processes, cp and the shell, as a user types them, against `scaibunker serve` in mode all: real microVMs. */
describe('scaibunker exec streaming, ps/logs/kill, cp and shell against a real server', () => {
  let work: string;
  let server: ServedForCli;
  let env: NodeJS.ProcessEnv;
  let bunkerId: string;
  const cli = (args: string[], input: string | Buffer = ''): Promise<CliResult> => runCli(args, env, input);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'scaibunker-cli-files-'));
    server = await serveForCli('cli-streams', 'all');
    env = server.env;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const workers = JSON.parse((await cli(['worker', 'list', '--json'])).stdout) as Array<{ status: string }>;
      if (workers[0]?.status === 'online') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const created = await cli(['bunker', 'create', '--image', 'minimal', '--memory', '128', '--disk', '512', '--json']);
    expect(created.code).toBe(0);
    bunkerId = (JSON.parse(created.stdout) as { id: string }).id;
  }, 180_000);

  afterAll(async () => {
    if (bunkerId) await cli(['bunker', 'rm', bunkerId]);
    if (server) expect(await server.close()).toBe(0);
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('streams exec output live, stdout and stderr apart, and exits with the command’s code', async () => {
    const run = spawnCli(['exec', bunkerId, '--', 'sh', '-c', 'echo a; echo oops >&2; sleep 1; echo b; exit 5'], env);
    const result = await run.exited;
    expect(result).toMatchObject({ code: 5, stdout: 'a\nb\n', stderr: 'oops\n' });
    // The first line was printed while the command still ran, not at its end.
    const first = run.chunks.find((c) => c.text.startsWith('a\n'))!;
    expect(result.at - first.at).toBeGreaterThan(700);
  }, 60_000);

  it('exits 128+n when the command is killed by signal n, and 124 on timeout', async () => {
    const killed = await cli(['exec', bunkerId, '--', 'sh', '-c', 'kill -9 $$']);
    expect(killed.code).toBe(137);
    expect(killed.stderr).toContain('killed by SIGKILL');
    const slow = await cli(['exec', bunkerId, '--timeout', '1', '--', 'sleep', '5']);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toContain('timed out after 1 s');
  }, 60_000);

  it('starts a command in the background, lists it, follows its output and kills it', async () => {
    const started = await cli(['exec', bunkerId, '--background', '--', 'sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
    expect(started.code).toBe(0);
    const pid = Number(started.stdout.trim());
    expect(pid).toBeGreaterThan(0);

    const listed = JSON.parse((await cli(['ps', bunkerId, '--json'])).stdout) as Array<{ pid: number; background: boolean; exit: unknown }>;
    expect(listed.find((p) => p.pid === pid)).toMatchObject({ background: true, exit: null });
    expect((await cli(['ps', bunkerId])).stdout).toMatch(new RegExp(`^${pid}\\s+running\\s+true\\s+\\S+\\s+sh -c i=0`, 'm'));

    const follow = spawnCli(['logs', bunkerId, String(pid), '--follow'], env);
    await until(() => follow.stdout().includes('tick 3'), 'followed output');
    const killed = await cli(['kill', bunkerId, String(pid), '--signal', 'TERM', '--json']);
    expect(JSON.parse(killed.stdout)).toEqual({ pid, signal: 15 });
    const followed = await follow.exited;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/^tick 0\ntick 1\ntick 2\ntick 3\n/);

    const after = JSON.parse((await cli(['ps', bunkerId, '--json'])).stdout) as Array<{ pid: number; exit: unknown }>;
    expect(after.find((p) => p.pid === pid)!.exit).toEqual({ exit_code: null, signal: 'SIGTERM', timed_out: false });
    const events = (await cli(['logs', bunkerId, String(pid), '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toEqual({ started: { pid } });
    expect(events.at(-1)).toEqual({ exit: { exit_code: null, signal: 'SIGTERM', timed_out: false } });
    const missing = await cli(['kill', bunkerId, '99999']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
  }, 60_000);

  it('streams piped stdin into exec live: bytes as they are, at the pace the command reads, and a command that stops reading still exits with its code', async () => {
    const data = randomBytes(30 * 1024 * 1024);
    const summed = await cli(['exec', bunkerId, '--', 'sha256sum'], data);
    expect(summed.code).toBe(0);
    expect(summed.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    // head exits after 5 bytes: the rest is never read (a broken pipe, not an error).
    expect(await cli(['exec', bunkerId, '--', 'head', '-c', '5'], 'hello, world\n'.repeat(200_000))).toEqual({ code: 0, stdout: 'hello', stderr: '' });

    // Live: the second line is typed only after the answer to the first has come back.
    const child = spawn(process.execPath, [CLI, 'exec', bunkerId, '--', 'sh', '-c', 'read a; echo "got $a"; read b; echo "got $b"; exit 7'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin!.write('first\n');
    await until(() => out.includes('got first'), 'the answer to the first line');
    child.stdin!.end('second\n');
    expect(await exited).toBe(7);
    expect(out).toBe('got first\ngot second\n');
  }, 120_000);

  it('copies a 20 MB file up and down, streamed, byte for byte, with the mode asked for', async () => {
    const up = join(work, 'up.bin');
    const size = 20 * 1024 * 1024;
    writeFileSync(up, randomBytes(size));
    const uploaded = await cli(['cp', up, `${bunkerId}:/home/user/`, '--mode', '0640']);
    expect(uploaded).toEqual({ code: 0, stdout: '', stderr: '' });
    const stat = await cli(['exec', bunkerId, '--json', '--', 'stat', '-c', '%s %a %U', '/home/user/up.bin']);
    expect(JSON.parse(stat.stdout)).toMatchObject({ exit_code: 0, stdout: `${size} 640 user\n` });

    const down = join(work, 'down.bin');
    expect(await cli(['cp', `${bunkerId}:/home/user/up.bin`, down])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(statSync(down).size).toBe(size);
    expect(await sha256File(down)).toBe(await sha256File(up));

    // `-` is stdin going up and stdout coming down.
    expect((await cli(['cp', '-', `${bunkerId}:/tmp/note.txt`], 'from stdin\n')).code).toBe(0);
    expect(await cli(['cp', `${bunkerId}:/tmp/note.txt`, '-'])).toEqual({ code: 0, stdout: 'from stdin\n', stderr: '' });
  }, 120_000);

  it('refuses a copy into a missing directory, or of a directory, with a clear error and a non-zero exit', async () => {
    const file = join(work, 'small.txt');
    writeFileSync(file, 'x');
    const missingDir = await cli(['cp', file, `${bunkerId}:/no/such/dir/small.txt`]);
    expect(missingDir.code).toBe(1);
    expect(missingDir.stderr).toContain(`${bunkerId}:/no/such/dir does not exist`);
    const localMissing = await cli(['cp', `${bunkerId}:/tmp/note.txt`, join(work, 'nope', 'x.txt')]);
    expect(localMissing.code).toBe(1);
    expect(localMissing.stderr).toContain('No such local directory');
    const directory = await cli(['cp', `${bunkerId}:/home`, join(work, 'home')]);
    expect(directory.code).toBe(1);
    expect(directory.stderr).toContain('directories are not supported');
    const bothLocal = await cli(['cp', file, join(work, 'copy.txt')]);
    expect(bothLocal.code).toBe(1);
    expect(bothLocal.stderr).toContain('One side must be in a bunker');
  }, 60_000);

  it('runs a shell fed from a pipe: the commands run as typed and the CLI exits with the shell’s code', async () => {
    const result = await cli(['shell', bunkerId], 'echo "hi-$((40+2))"; exit 3\n');
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('hi-42');
    expect(result.stderr).toBe('');
    // Piped input that never says exit ends the shell at its end, as ^D would.
    const ended = await cli(['shell', bunkerId], 'id -un');
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain('user');
    const refused = await cli(['shell', 'bnk_00000000000000000000000000']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/NOT_FOUND|VALIDATION_ERROR/);
  }, 60_000);
});
