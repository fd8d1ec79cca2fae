import { access, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Accelerator } from './vmm-driver.js';

/** What the probe decided and why; the worker reports it, never assumes it. */
export interface AcceleratorChoice {
  accelerator: Accelerator;
  reason: string;
}

/**
 * Decides between KVM and TCG by trying: a `/dev/kvm` may exist yet be unable to boot the
 * guest (PVM-based KVM on nested cloud VMs aborts or crawls), so the only honest probe is a
 * real boot with a short deadline. The answer is cached per kernel and QEMU version.
 * `SCAIBUNKER_ACCEL=kvm|tcg` overrides it.
 */
export async function chooseAccelerator(options: {
  cacheDir: string;
  kernelPath: string;
  /** The QEMU version line: a new QEMU may decide differently. */
  vmmVersion: string;
  override?: string | undefined;
  /** Boots one VM with KVM and resolves true when its agent answered in time. */
  tryKvmBoot: () => Promise<boolean>;
}): Promise<AcceleratorChoice> {
  if (options.override === 'kvm' || options.override === 'tcg') return { accelerator: options.override, reason: 'SCAIBUNKER_ACCEL' };
  if (!(await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false))) {
    return { accelerator: 'tcg', reason: '/dev/kvm is absent or not accessible' };
  }
  const key = `${options.kernelPath}|${options.vmmVersion}`;
  const cachePath = join(options.cacheDir, 'accelerator.json');
  const cached = await readFile(cachePath, 'utf8').then((t) => JSON.parse(t) as { key: string } & AcceleratorChoice, () => undefined);
  if (cached?.key === key) return { accelerator: cached.accelerator, reason: `${cached.reason} (cached)` };
  const works = await options.tryKvmBoot().catch(() => false);
  const choice: AcceleratorChoice = works
    ? { accelerator: 'kvm', reason: 'a KVM test boot reached the agent' }
    : { accelerator: 'tcg', reason: '/dev/kvm exists but a KVM test boot did not reach the agent (e.g. PVM-based KVM); using multi-threaded TCG' };
  await mkdir(options.cacheDir, { recursive: true });
  await writeFile(cachePath, JSON.stringify({ key, ...choice }));
  return choice;
}
