import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-process.js';
import { serveForCli, type ServedForCli } from './server-process.js';

/** The `scaibunker quota` verbs, as an administrator types them, against a real `scaibunker serve`. */
describe('scaibunker quota against a real server', () => {
  let server: ServedForCli;
  let env: NodeJS.ProcessEnv;
  let profileId: string;
  let userId: string;
  let assignmentId: string;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, env);
  const json = async (args: string[]) => {
    const result = await cli([...args, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    // Mode controller: quotas need no bunker, so no local worker (and no microVM) is started.
    server = await serveForCli('cli-quotas', 'controller');
    env = server.env;
  }, 60_000);

  afterAll(async () => {
    if (server) expect(await server.close()).toBe(0);
  }, 60_000);

  it('creates a profile in the caller’s tenant, printing its caps with "none" where uncapped', async () => {
    const created = await cli(['quota', 'create', 'small', '--description', 'For trials', '--max-bunkers', '5', '--max-memory', '2048', '--max-gpu', '0']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^tenant_id\s+ten_\S+$/m);
    expect(created.stdout).toMatch(/^max_concurrent_bunkers\s+5$/m);
    expect(created.stdout).toMatch(/^max_gpu_count\s+0$/m);
    expect(created.stdout).toMatch(/^max_disk_mb\s+none$/m);
    profileId = /^id\s+(qp_\S+)$/m.exec(created.stdout)![1]!;
  });

  it('creates a platform profile with --platform', async () => {
    const platform = await json(['quota', 'create', 'gpu-pool', '--platform', '--per-bunker-gpu', '1']);
    expect(platform).toMatchObject({ name: 'gpu-pool', tenant_id: null, per_bunker_max_gpu: 1, max_concurrent_bunkers: null });
  });

  it('lists both profiles, with ∞ for no cap and "platform" as the platform profile’s scope', async () => {
    const listed = (await json(['quota', 'list'])) as Array<{ name: string }>;
    expect(listed.map((p) => p.name).sort()).toEqual(['gpu-pool', 'small']);
    const table = await cli(['quota', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+SCOPE\s+BUNKERS/);
    expect(table.stdout).toMatch(new RegExp(`^${profileId}\\s+small\\s+ten_\\S+\\s+5\\s+∞\\s+∞\\s+2048\\s+∞\\s+0$`, 'm'));
    expect(table.stdout).toMatch(/^qp_\S+\s+gpu-pool\s+platform\s+∞/m);
  });

  it('reads a profile, and removes a cap with "none" while setting another', async () => {
    expect(await json(['quota', 'get', profileId])).toMatchObject({ id: profileId, name: 'small', description: 'For trials', max_memory_mb: 2048 });
    const changed = await json(['quota', 'set', profileId, '--max-memory', 'none', '--per-bunker-cpu', '1000']);
    expect(changed).toMatchObject({ id: profileId, max_memory_mb: null, per_bunker_max_cpu: 1000, max_concurrent_bunkers: 5 });
    expect((await cli(['quota', 'get', profileId])).stdout).toMatch(/^max_memory_mb\s+none$/m);
  });

  it('assigns the profile to a user and lists the assignment', async () => {
    userId = (await json(['user', 'create', 'quota-user@example.test'])).id;
    const assigned = await cli(['quota', 'assign', profileId, '--user', userId]);
    expect(assigned.code).toBe(0);
    expect(assigned.stdout).toMatch(new RegExp(`^target_id\\s+${userId}$`, 'm'));
    expect(assigned.stdout).toMatch(/^mode\s+individual$/m);
    assignmentId = /^id\s+(qpa_\S+)$/m.exec(assigned.stdout)![1]!;
    expect(await json(['quota', 'assignments', profileId])).toMatchObject([{ id: assignmentId, target_kind: 'user', target_id: userId, mode: 'individual' }]);
  });

  it('prints the user’s usage per profile as used/cap with the headroom left, ∞ where uncapped', async () => {
    const usage = await cli(['quota', 'usage', '--user', userId]);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(new RegExp(`^profile\\s+small \\(${profileId}\\)$`, 'm'));
    expect(usage.stdout).toMatch(new RegExp(`^bucket\\s+user:${userId}$`, 'm'));
    expect(usage.stdout).toMatch(/^RESOURCE\s+USED\/CAP$/m);
    expect(usage.stdout).toMatch(/^bunkers\s+0\/5 \(5 left\)$/m);
    expect(usage.stdout).toMatch(/^memory_mb\s+0\/∞$/m);
    expect(usage.stdout).toMatch(/^gpu_count\s+0\/0 \(0 left\)$/m);
    expect(await json(['quota', 'usage', '--user', userId])).toMatchObject([
      { profile_id: profileId, assignment_id: assignmentId, bucket: `user:${userId}`, cap: { bunkers: 5, memory_mb: null }, headroom: { bunkers: 5 } },
    ]);
  });

  it('unassigns: the user then has no applicable profile', async () => {
    const removed = await cli(['quota', 'unassign', profileId, assignmentId]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`^id\\s+${assignmentId}$`, 'm'));
    expect(await json(['quota', 'assignments', profileId])).toEqual([]);
    expect(await json(['quota', 'usage', '--user', userId])).toEqual([]);
  });

  it('removes the profile; reading it then fails with NOT_FOUND', async () => {
    const removed = await cli(['quota', 'rm', profileId]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`^id\\s+${profileId}$`, 'm'));
    const gone = await cli(['quota', 'get', profileId]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('NOT_FOUND');
  });

  it('refuses bad flag values before calling the API, with a VALIDATION_ERROR naming the flag', async () => {
    const notANumber = await cli(['quota', 'create', 'bad', '--max-memory', 'lots']);
    expect(notANumber).toMatchObject({ code: 1, stdout: '' });
    expect(notANumber.stderr).toContain('VALIDATION_ERROR: --max-memory must be a whole number (MB) or "none" for no cap, got "lots".');
    const negative = await cli(['quota', 'create', 'bad', '--max-cpu=-1']);
    expect(negative.code).toBe(1);
    expect(negative.stderr).toContain('--max-cpu must be a whole number');
    const badMode = await cli(['quota', 'assign', 'qp_x', '--user', 'usr_x', '--mode', 'everyone']);
    expect(badMode.code).toBe(1);
    expect(badMode.stderr).toContain('--mode must be one of individual, shared, per_user');
    const noTarget = await cli(['quota', 'assign', 'qp_x']);
    expect(noTarget.code).toBe(1);
    expect(noTarget.stderr).toContain('exactly one of --user USER_ID or --group GROUP_ID');
    expect((await json(['quota', 'list'])).map((p: { name: string }) => p.name)).toEqual(['gpu-pool']);
  });
  it('reads accounting with `usage`: a period header and a table, JSON with --json, and a clear error for a bad date', async () => {
    const table = await cli(['usage', '--by', 'tenant', '--from', '2026-01-01', '--to', '2026-02-01']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('2026-01-01T00:00:00.000Z → 2026-02-01T00:00:00.000Z, per tenant');
    expect(table.stdout).toContain('RUNNING_H');
    expect(await json(['usage', '--from', '2026-01-01', '--to', '2026-02-01'])).toEqual({ from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', group_by: 'bunker', rows: [] });
    const bad = await cli(['usage', '--from', 'last tuesday']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--from must be a date or timestamp');
  });
});
