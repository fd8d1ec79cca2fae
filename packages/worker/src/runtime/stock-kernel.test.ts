import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../testing/test-runtime.js';
import { DEFAULT_CACHE_DIR } from './guest-assets.js';
import { VmRuntime } from './vm-runtime.js';

/** The fallback guest kernel: Debian's cloud kernel with its initramfs, booted and restored for real. */
describe('Debian’s stock cloud kernel as the guest kernel', () => {
  let runtime: VmRuntime;

  beforeAll(async () => {
    runtime = await VmRuntime.open({
      dataDir: mkdtempSync(join(tmpdir(), 'scaibunker-stock-')), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR),
      acceleratorOverride: process.env.SCAIBUNKER_ACCEL, kernel: 'stock',
    });
  }, 120_000);

  async function uname(startFrom: 'boot' | 'template'): Promise<{ out: string; startedFrom: string }> {
    const vm = await runtime.start({ image: 'minimal', memoryMb: 256, startFrom });
    try {
      const proc = vm.agent.exec({ argv: ['sh', '-c', 'uname -r; cat /proc/cmdline'] });
      const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
      return { out: out.toString(), startedFrom: vm.startedFrom };
    } finally {
      await vm.stop();
    }
  }

  it('boots through its initramfs to the agent, and restores from a template of it', async () => {
    expect(runtime.assets).toMatchObject({ kernelFlavour: 'stock', initrdPath: expect.stringMatching(/initrd\.img$/) });
    const booted = await uname('boot');
    expect(booted.out).toMatch(/cloud-amd64/);
    expect(booted.out).toContain('cryptomgr.notests');
    const restored = await uname('template');
    expect(restored).toMatchObject({ startedFrom: 'template', out: expect.stringMatching(/cloud-amd64/) });
  }, 180_000);
});
