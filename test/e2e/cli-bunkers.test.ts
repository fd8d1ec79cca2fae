import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-process.js';
import { serveForCli, type ServedForCli } from './server-process.js';

/** The M3 CLI verbs, as a user types them, against `scaibunker serve` in mode all: real microVMs. */
describe('scaibunker bunker, exec and worker against a real server', () => {
  let server: ServedForCli;
  let env: NodeJS.ProcessEnv;
  let bunkerId: string;
  const cli = (args: string[], input = ''): Promise<CliResult> => runCli(args, env, input);

  beforeAll(async () => {
    server = await serveForCli('cli-bunkers', 'all');
    env = server.env;
  }, 60_000);

  afterAll(async () => {
    if (server) expect(await server.close()).toBe(0);
  }, 60_000);

  it('lists the local worker online', async () => {
    const deadline = Date.now() + 60_000;
    let workers: Array<{ name: string; status: string }> = [];
    while (Date.now() < deadline) {
      const listed = await cli(['worker', 'list', '--json']);
      expect(listed.code).toBe(0);
      workers = JSON.parse(listed.stdout);
      if (workers[0]?.status === 'online') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(workers).toMatchObject([{ name: 'local', status: 'online' }]);
    const table = await cli(['worker', 'list']);
    // Served with SCAIBUNKER_NETWORK=off (server-process.ts): this worker builds no networks.
    expect(table.stdout).toMatch(/local\s+online\s+\S+\s+no\s/);
  }, 90_000);

  it('creates a running bunker and prints it as JSON, with no progress output when stderr is not a terminal', async () => {
    const created = await cli(['bunker', 'create', '--image', 'minimal', '--memory', '128', '--env', 'GREETING=hi there', '--label', 'team=e2e', '--json']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const bunker = JSON.parse(created.stdout);
    expect(bunker).toMatchObject({ image: 'minimal', memory_mb: 128, status: 'running', label_set: { team: 'e2e' }, env_var_names: ['GREETING'] });
    bunkerId = bunker.id;
  }, 120_000);

  it('runs a command, prints its output and exits with its code', async () => {
    const result = await cli(['exec', bunkerId, '--', 'sh', '-c', 'echo hi; echo "$GREETING" >&2; exit 3']);
    expect(result).toEqual({ code: 3, stdout: 'hi\n', stderr: 'hi there\n' });
  }, 60_000);

  it('passes piped stdin through, and --env, --cwd and --json', async () => {
    const shouted = await cli(['exec', bunkerId, '--', 'tr', 'a-z', 'A-Z'], 'shout\n');
    expect(shouted).toMatchObject({ code: 0, stdout: 'SHOUT\n' });
    const json = await cli(['exec', bunkerId, '--cwd', '/tmp', '--env', 'X=1', '--json', '--', 'sh', '-c', 'echo "$X $(pwd)"']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ exit_code: 0, signal: null, stdout: '1 /tmp\n', timed_out: false });
  }, 60_000);

  it('exits 124 when the command times out', async () => {
    const slow = await cli(['exec', bunkerId, '--timeout', '1', '--', 'sleep', '5']);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toContain('timed out after 1 s');
  }, 60_000);

  it('pauses, refuses exec while paused, resumes and keeps the bunker alive', async () => {
    const paused = await cli(['bunker', 'pause', bunkerId]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/status\s+paused/);
    const refused = await cli(['exec', bunkerId, '--', 'true']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('BUNKER_NOT_RUNNING');
    const resumed = await cli(['bunker', 'resume', bunkerId, '--json']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: bunkerId, status: 'running' });
    expect((await cli(['exec', bunkerId, '--', 'echo', 'back'])).stdout).toBe('back\n');
    const kept = await cli(['bunker', 'keepalive', bunkerId, '--json']);
    expect(JSON.parse(kept.stdout)).toMatchObject({ id: bunkerId, status: 'running' });
  }, 60_000);

  it('lists and reads bunkers, filtered by status', async () => {
    const running = JSON.parse((await cli(['bunker', 'list', '--status', 'running', '--json'])).stdout) as Array<{ id: string }>;
    expect(running.map((b) => b.id)).toContain(bunkerId);
    const paused = JSON.parse((await cli(['bunker', 'list', '--status', 'paused', '--json'])).stdout) as Array<{ id: string }>;
    expect(paused).toEqual([]);
    expect((await cli(['bunker', 'list'])).stdout).toMatch(new RegExp(`${bunkerId}\\s+-\\s+minimal\\s+running`));
    expect(JSON.parse((await cli(['bunker', 'get', bunkerId, '--json'])).stdout)).toMatchObject({ id: bunkerId, status: 'running' });
    const bad = await cli(['bunker', 'list', '--status', 'sleeping']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--status must be one of');
  }, 60_000);

  it('removes the bunker; exec on it then fails with BUNKER_NOT_RUNNING', async () => {
    const removed = await cli(['bunker', 'rm', bunkerId]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/status\s+terminated/);
    const refused = await cli(['exec', bunkerId, '--', 'echo', 'hi']);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('BUNKER_NOT_RUNNING');
  }, 60_000);

  it('registers a worker, shows its token once with a warning, drains and resumes it', async () => {
    const created = await cli(['worker', 'create', 'w2', '--label', 'zone=a']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/token\s+wrk_\S+\.\S+/);
    expect(created.stderr).toContain('shown once');
    const id = /^id\s+(wrk_\S+)$/m.exec(created.stdout)![1]!;
    expect(JSON.parse((await cli(['worker', 'get', id, '--json'])).stdout)).toMatchObject({ name: 'w2', status: 'offline', labels: { zone: 'a' } });
    expect(JSON.parse((await cli(['worker', 'drain', id, '--json'])).stdout)).toMatchObject({ id, draining: true });
    expect(JSON.parse((await cli(['worker', 'resume', id, '--json'])).stdout)).toMatchObject({ id, draining: false });
  }, 60_000);
});
