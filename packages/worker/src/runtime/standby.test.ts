import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../testing/test-runtime.js';
import { DEFAULT_CACHE_DIR } from './guest-assets.js';
import { standbyVmmsFromEnv } from './standby-vmms.js';
import { VmRuntime, type RuntimeVm } from './vm-runtime.js';

/** QEMU processes serving VMs under a data dir (found by their command line). */
function vmmsUnder(dataDir: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(dataDir, 'vms'));
    } catch {
      return false;
    }
  }).map(Number);
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('standby VMMs: QEMU started ahead of need, loading a template on demand', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-standby-'));
  let runtime: VmRuntime;
  const vms: RuntimeVm[] = [];

  beforeAll(async () => {
    runtime = await VmRuntime.open({ dataDir, cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL, standbyVmms: 1 });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(vms.map((vm) => vm.stop()));
    await runtime?.close();
  });

  async function sh(vm: RuntimeVm, script: string): Promise<string> {
    const proc = vm.agent.exec({ argv: ['sh', '-c', script] });
    const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return out.toString();
  }

  it('keeps one waiting after a start, and the next start of that shape loads into it', async () => {
    vms.push(await runtime.start({ image: 'minimal', memoryMb: 128, hostname: 'first' }));
    expect(vms[0]!.standby).toBe(false);
    await waitFor(() => Object.values(runtime.standbySizes()).includes(1));
    const [waitingPid] = vmmsUnder(dataDir).filter((pid) => pid !== vms[0]!.vm.pid);

    vms.push(await runtime.start({ image: 'minimal', memoryMb: 128, hostname: 'second' }));
    const [a, b] = vms as [RuntimeVm, RuntimeVm];
    expect(b).toMatchObject({ standby: true, startedFrom: 'template' });
    expect(b.vm.pid).toBe(waitingPid);
    // A clone like any other: its own hostname, RNG and disk, at normal CPU priority.
    expect((await sh(b, 'hostname')).trim()).toBe('second');
    const probe = 'head -c 16 /dev/urandom | od -An -tx1 | tr -d " \\n"';
    expect(await sh(a, probe)).not.toBe(await sh(b, probe));
    await sh(b, 'echo only-in-b > /root/mark; sync');
    expect(await sh(a, 'cat /root/mark 2>&1 || echo absent')).toContain('absent');
    expect(b.spec.background).toBe(false);
  }, 180_000);

  it('ends the waiting VMMs on close and leaves the running VMs alone', async () => {
    await waitFor(() => Object.values(runtime.standbySizes()).includes(1));
    expect(vmmsUnder(dataDir)).toHaveLength(3);
    await runtime.close();
    await waitFor(() => vmmsUnder(dataDir).length === 2);
    expect(vmmsUnder(dataDir).sort()).toEqual(vms.map((vm) => vm.vm.pid).sort());
    expect((await sh(vms[1]!, 'echo alive')).trim()).toBe('alive');
  }, 60_000);

  it('reads SCAIBUNKER_STANDBY_VMMS strictly', () => {
    expect(standbyVmmsFromEnv(undefined)).toBe(1);
    expect(standbyVmmsFromEnv('0')).toBe(0);
    expect(standbyVmmsFromEnv('4')).toBe(4);
    for (const bad of ['-1', '17', 'two', '1.5']) expect(() => standbyVmmsFromEnv(bad)).toThrow(/SCAIBUNKER_STANDBY_VMMS/);
  });
});
