import { describe, expect, it, vi } from 'vitest';
import { ScaiBunkerClient } from '@scaibunker/sdk';
import { BUNKER_COMMANDS } from './bunkers.js';
import type { CommandContext } from './platform.js';

/** A client whose fetch (a stand-in at the network edge: no server) records the body and answers `bunker`. */
function answering(bunker: Record<string, unknown>) {
  const bodies: unknown[] = [];
  const fetchImpl = async (_url: string | URL | Request, init: RequestInit = {}) => {
    bodies.push(JSON.parse(String(init.body)));
    return new Response(JSON.stringify({ status: 'ok', data: bunker }), { status: 201, headers: { 'content-type': 'application/json' } });
  };
  return { client: new ScaiBunkerClient({ host: 'http://api.test', apiKey: 'k', fetch: fetchImpl as typeof fetch }), bodies };
}

/** Runs `bunker create` with the flags as parseArgs gives them, capturing what it prints and its exit code. */
async function create(flags: CommandContext['flags'], client: ScaiBunkerClient) {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { stdout += String(chunk); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr += String(chunk); return true; });
  try {
    await BUNKER_COMMANDS['bunker create']!.run({ args: [], flags, json: false, client: () => client });
  } finally {
    vi.restoreAllMocks();
  }
  const code = process.exitCode;
  process.exitCode = undefined;
  return { stdout, stderr, code };
}

describe('bunker create', () => {
  it('sends the network flags in the create body', async () => {
    const { client, bodies } = answering({ id: 'bnk_1', status: 'running' });
    const result = await create({ image: 'minimal', network: 'allowlisted', allow: ['pypi.org'], bandwidth: '20' }, client);
    expect(result.code).toBeUndefined();
    expect(bodies).toEqual([{ image: 'minimal', network_profile: 'allowlisted', network_allowlist: ['pypi.org'], bandwidth_mbit: 20 }]);
  });

  it('prints a bunker that failed to start, names the reason on stderr and exits 1, so a script sees the failure', async () => {
    const reason = 'start failed: This worker has no bunker networking set up.';
    const { client } = answering({ id: 'bnk_1', status: 'failed', failure_reason: reason });
    const result = await create({ image: 'minimal', network: 'unrestricted' }, client);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^status\s+failed$/m);
    expect(result.stderr).toBe(`scaibunker: bunker bnk_1 failed: ${reason}\n`);
  });
});
