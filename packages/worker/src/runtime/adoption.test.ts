import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect } from '../testing/test-runtime.js';
import { DEFAULT_CACHE_DIR } from './guest-assets.js';
import { VmRuntime, type RuntimeVm } from './vm-runtime.js';

/**
 * A worker process that restarts (an upgrade, a crash) finds its VMs still running (they run
 * detached) and takes them over; the files of VMs that died meanwhile are cleaned up.
 */
describe('adopting the VMs a previous worker process left', () => {
  const options = () => ({ cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });

  async function sh(vm: RuntimeVm, script: string): Promise<string> {
    const proc = vm.agent.exec({ argv: ['sh', '-c', script] });
    const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return out.toString();
  }

  it('takes over a live VM with its label and state, and cleans up after a dead one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-adopt-'));
    const before = await VmRuntime.open({ dataDir, ...options() });
    const kept = await before.start({ image: 'minimal', memoryMb: 128, label: 'bnk_0123456789abcdefghjkmnpqrs' });
    const lost = await before.start({ image: 'minimal', memoryMb: 128, label: 'bnk_1123456789abcdefghjkmnpqrs' });
    await sh(kept, 'echo survived > /root/mark');
    // The old worker process goes away without stopping anything; one VM dies meanwhile.
    kept.agent.close();
    lost.agent.close();
    await lost.vm.kill();

    const after = await VmRuntime.open({ dataDir, ...options() });
    const adopted = await after.adoptRunning();
    expect(adopted.map((vm) => vm.label)).toEqual(['bnk_0123456789abcdefghjkmnpqrs']);
    const [vm] = adopted as [RuntimeVm];
    expect(vm.vm.pid).toBe(kept.vm.pid);
    expect(await sh(vm, 'cat /root/mark')).toBe('survived\n');
    expect(existsSync(lost.spec.workDir)).toBe(false);

    // A new VM does not get the adopted one's jail uid.
    const fresh = await after.start({ image: 'minimal', memoryMb: 128 });
    expect(fresh.spec.jailUid).not.toBe(vm.spec.jailUid);
    await fresh.stop();
    await vm.stop();
    expect(existsSync(vm.spec.workDir)).toBe(false);
  }, 180_000);
});
