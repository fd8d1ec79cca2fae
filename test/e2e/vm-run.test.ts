import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as cli } from './cli-process.js';

/** The M2 acceptance, as a new user types it: a real microVM per command. */
describe('scaibunker vm run', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-vmrun-'));
  const env = { SCAIBUNKER_DATA_DIR: dataDir };
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('boots minimal, prints the output and exits with the command’s code', async () => {
    const result = await cli(['vm', 'run', '--image', 'minimal', '--', 'sh', '-c', 'echo hi; exit 3'], env);
    expect(result.stdout).toBe('hi\n');
    expect(result.code).toBe(3);
  }, 180_000);

  it('passes stdin through and reports a timeout with exit code 124', async () => {
    const piped = await cli(['vm', 'run', '--image', 'minimal', '--', 'tr', 'a-z', 'A-Z'], env, 'shout\n');
    expect(piped.stdout).toBe('SHOUT\n');
    const slow = await cli(['vm', 'run', '--image', 'minimal', '--timeout', '1', '--', 'sleep', '30'], env);
    expect(slow.code).toBe(124);
    expect(slow.stderr).toContain('timed out');
  }, 180_000);

  it('removes the VM afterwards: no QEMU process and no work directory left', async () => {
    await cli(['vm', 'run', '--image', 'minimal', '--', 'true'], env);
    const { readdirSync, readFileSync } = await import('node:fs');
    expect(readdirSync(join(dataDir, 'vms'))).toEqual([]);
    const qemus = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
      try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir); } catch { return false; }
    });
    expect(qemus).toEqual([]);
  }, 180_000);
});
