import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../testing/test-runtime.js';
import { DEFAULT_CACHE_DIR } from './guest-assets.js';
import { VmRuntime, type RuntimeVm } from './vm-runtime.js';

/**
 * Private raw disk copies instead of qcow2 overlays: what the Firecracker driver needs (it
 * cannot open qcow2), exercised here under QEMU, which opens both.
 */
describe('disk mode copy: a private raw disk per VM', () => {
  let runtime: VmRuntime;
  const vms: RuntimeVm[] = [];

  beforeAll(async () => {
    runtime = await VmRuntime.open({
      dataDir: mkdtempSync(join(tmpdir(), 'scaibunker-copy-')), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR),
      acceleratorOverride: process.env.SCAIBUNKER_ACCEL, diskMode: 'copy',
    });
  }, 120_000);
  afterAll(async () => { await Promise.all(vms.map((vm) => vm.stop())); });

  async function sh(vm: RuntimeVm, script: string): Promise<string> {
    const proc = vm.agent.exec({ argv: ['sh', '-c', script] });
    const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return out.toString();
  }

  it('restores two VMs from one raw template, each with its own disk, grown to its size', async () => {
    vms.push(await runtime.start({ image: 'minimal', memoryMb: 128, diskMb: 256 }));
    vms.push(await runtime.start({ image: 'minimal', memoryMb: 128 }));
    const [a, b] = vms as [RuntimeVm, RuntimeVm];
    expect([a.startedFrom, b.startedFrom]).toEqual(['template', 'template']);
    expect(a.spec).toMatchObject({ diskFormat: 'raw', sharedFiles: [] });
    expect(a.spec.diskPath).toMatch(/disk\.raw$/);
    await sh(a, 'echo only-in-a > /root/mark; sync');
    expect(await sh(b, 'cat /root/mark 2>&1 || echo absent')).toContain('absent');
    const sizeMib = Number((await sh(a, "df -m / | awk 'NR==2 {print $2}'")).trim());
    expect(sizeMib).toBeGreaterThan(200);
  }, 180_000);
});
