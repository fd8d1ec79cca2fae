import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli-process.js';
import { serveForCli, type ServedForCli } from './server-process.js';

/**
 * The M5 network verbs, as a user types them, against `scaibunker serve` in mode all. That
 * server's worker runs with SCAIBUNKER_NETWORK=off, so what is checked here is how the CLI
 * reports a worker without networking and an isolated bunker's network; the networks
 * themselves are vm-network.test.ts's.
 */
describe('scaibunker bunker network, egress-audit and bridge against a real server', () => {
  let server: ServedForCli;
  let env: NodeJS.ProcessEnv;
  let bunkerId: string;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, env);

  beforeAll(async () => {
    server = await serveForCli('cli-network', 'all');
    env = server.env;
    // Bridges and bunkers are made on an online worker: wait for the local one to dial in.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const listed = await cli(['worker', 'list', '--json']);
      if (listed.code === 0 && (JSON.parse(listed.stdout) as Array<{ status: string }>)[0]?.status === 'online') return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('the local worker did not come online');
  }, 90_000);

  afterAll(async () => {
    if (server) expect(await server.close()).toBe(0);
  }, 60_000);

  it('exits 1 with a clear reason when a networked bunker is asked of a server whose worker has no networking', async () => {
    const created = await cli(['bunker', 'create', '--image', 'minimal', '--memory', '128', '--network', 'unrestricted', '--bandwidth', '50']);
    expect(created.code).toBe(1);
    // Placement refuses it (NO_SUITABLE_WORKER) where it knows which workers have networking; a
    // bunker placed anyway fails at its worker, and the CLI prints it and names the worker's reason.
    expect(created.stderr).toMatch(/^(error: NO_SUITABLE_WORKER: No online worker has|scaibunker: bunker bnk_\S+ failed: .*This worker has no) bunker networking set up/m);
  }, 60_000);

  it('answers bridge create with NO_SUITABLE_WORKER (no worker here builds networks), and lists no bridge', async () => {
    const refused = await cli(['bridge', 'create', 'lab']);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^error: NO_SUITABLE_WORKER: No online worker has bunker networking set up/m);
    const table = await cli(['bridge', 'list']);
    expect(table).toEqual({ code: 0, stdout: 'ID  NAME  WORKER_ID  CREATED_BY  CREATED_AT\n', stderr: '' });
    expect(JSON.parse((await cli(['bridge', 'list', '--json'])).stdout)).toEqual([]);
  }, 30_000);

  it('shows an isolated bunker’s network: profile isolated, no guest address, no refusals', async () => {
    const created = await cli(['bunker', 'create', '--image', 'minimal', '--memory', '128', '--json']);
    expect(created.code).toBe(0);
    const bunker = JSON.parse(created.stdout);
    expect(bunker).toMatchObject({ status: 'running', network_profile: 'isolated', network_allowlist: null, bandwidth_mbit: null, interfaces: null, egress_audit: false });
    bunkerId = bunker.id;
    const shown = await cli(['bunker', 'network', bunkerId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^profile\s+isolated$/m);
    expect(shown.stdout).toMatch(/^address\s+-$/m);
    expect(shown.stdout).toMatch(/^denied_names\s+-$/m);
    const json = await cli(['bunker', 'network', bunkerId, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ profile: 'isolated', allowlist: null, bandwidth_mbit: null, guest: null, denied: null, recent_denials: [] });
  }, 120_000);

  it('prints no flows for a bunker without an egress audit, as lines and as NDJSON', async () => {
    const lines = await cli(['bunker', 'egress-audit', bunkerId]);
    expect(lines).toMatchObject({ code: 0, stdout: '' });
    expect(lines.stderr).toContain('No flows recorded');
    expect(await cli(['bunker', 'egress-audit', bunkerId, '--all', '--json'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await cli(['bunker', 'rm', bunkerId])).code).toBe(0);
  }, 60_000);

  it('refuses bad network flag values before calling the API, with a VALIDATION_ERROR naming the flag', async () => {
    const before = JSON.parse((await cli(['bunker', 'list', '--json'])).stdout) as unknown[];
    const zero = await cli(['bunker', 'create', '--image', 'minimal', '--network', 'unrestricted', '--bandwidth', '0']);
    expect(zero).toMatchObject({ code: 1, stdout: '' });
    expect(zero.stderr).toContain('VALIDATION_ERROR: --bandwidth must be a whole number of Mbit/s from 1 to 10000, got "0".');
    const badInterface = await cli(['bunker', 'create', '--image', 'minimal', '--network', 'transit', '--interface', 'bad']);
    expect(badInterface).toMatchObject({ code: 1, stdout: '' });
    expect(badInterface.stderr).toContain('VALIDATION_ERROR: --interface takes IF_NAME=BRIDGE[,mac=MAC][,spoof-guard=on|off], got "bad"');
    const badProfile = await cli(['bunker', 'create', '--image', 'minimal', '--network', 'open']);
    expect(badProfile.code).toBe(1);
    expect(badProfile.stderr).toContain('--network must be one of isolated, registry, allowlisted, unrestricted, transit.');
    expect(JSON.parse((await cli(['bunker', 'list', '--json'])).stdout)).toHaveLength(before.length);
  }, 30_000);
});
