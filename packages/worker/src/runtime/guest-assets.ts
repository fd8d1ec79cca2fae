import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScaiError } from '@scaibunker/contracts';
import { runCommand } from '../host/run-command.js';

/**
 * Which guest kernel VMs boot: `minimal` (ours, built from linux-source-6.1: no modules, no
 * initramfs, ~0.4 s to the agent under TCG) or `stock` (Debian's cloud kernel with a tiny
 * initramfs that loads its virtio modules, ~1.6 s; the fallback, see guest-kernel/README.md).
 */
export type KernelFlavour = 'minimal' | 'stock';

/** The guest kernel and agent a worker boots, and the jailer its VMMs start under. */
export interface GuestAssets {
  kernelFlavour: KernelFlavour;
  kernelPath: string;
  /** The stock kernel's initramfs; the minimal kernel needs none. */
  initrdPath: string | undefined;
  agentPath: string;
  jailerPath: string;
}

// The build scripts sit in the repository beside this package; the same two levels up from src/ and dist/.
const KERNEL_BUILD = fileURLToPath(new URL('../../guest-kernel/build.sh', import.meta.url));
const STOCK_KERNEL = fileURLToPath(new URL('../../guest-kernel/stock-kernel.sh', import.meta.url));
const AGENT_BUILD = fileURLToPath(new URL('../../../guest/build.sh', import.meta.url));
const JAILER_BUILD = fileURLToPath(new URL('../../jailer/build.sh', import.meta.url));

/**
 * The default cache for built guest assets (kernel, rootfs tarballs, accelerator decision):
 * machine-wide, so the kernel is built once per machine whatever checkout asks for it.
 */
export const DEFAULT_CACHE_DIR = process.getuid?.() === 0
  ? '/var/cache/scaibunker'
  : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'scaibunker');

/**
 * Finds (building when missing) the guest kernel, the agent and the jailer. The scripts are idempotent and
 * answer at once from their cache, so this is cheap after the first run.
 */
export async function resolveGuestAssets(cacheDir: string, kernelFlavour: KernelFlavour = 'minimal', signal?: AbortSignal): Promise<GuestAssets> {
  const env = { ...process.env, SCAIBUNKER_CACHE_DIR: cacheDir };
  const [kernel, agent, jailer] = [kernelFlavour === 'stock' ? STOCK_KERNEL : KERNEL_BUILD, AGENT_BUILD, JAILER_BUILD]
    .map((script) => runCommand('bash', [script], { env, ...(signal ? { signal } : {}) }));
  const kernelLines = (await kernel!).stdout.trim().split('\n').map((line) => line.trim());
  return {
    kernelFlavour,
    // The stock script prints the kernel then the initramfs; build.sh prints the kernel alone.
    kernelPath: kernelFlavour === 'stock' ? kernelLines.at(-2)! : kernelLines.at(-1)!,
    initrdPath: kernelFlavour === 'stock' ? kernelLines.at(-1) : undefined,
    agentPath: lastLine((await agent!).stdout),
    jailerPath: lastLine((await jailer!).stdout),
  };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)!.trim();
}

/** The kernel flavour `SCAIBUNKER_GUEST_KERNEL` asks for (default `minimal`); anything else is an error. */
export function kernelFlavourFromEnv(value: string | undefined): KernelFlavour {
  if (value === undefined || value === '' || value === 'minimal') return 'minimal';
  if (value === 'stock') return 'stock';
  throw new ScaiError('VALIDATION_ERROR', `SCAIBUNKER_GUEST_KERNEL must be "minimal" or "stock", got "${value}".`, {
    details: [{ field: 'SCAIBUNKER_GUEST_KERNEL', message: 'must be minimal or stock' }],
  });
}

/** The disk mode `SCAIBUNKER_DISK_MODE` asks for: `overlay` (default) or `copy`. */
export function diskModeFromEnv(value: string | undefined): 'overlay' | 'copy' {
  if (value === undefined || value === '' || value === 'overlay') return 'overlay';
  if (value === 'copy') return 'copy';
  throw new ScaiError('VALIDATION_ERROR', `SCAIBUNKER_DISK_MODE must be "overlay" or "copy", got "${value}".`, {
    details: [{ field: 'SCAIBUNKER_DISK_MODE', message: 'must be overlay or copy' }],
  });
}
