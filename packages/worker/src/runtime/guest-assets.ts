import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../host/run-command.js';

/** The guest kernel and agent a worker boots, and the jailer its VMMs start under. */
export interface GuestAssets {
  kernelPath: string;
  agentPath: string;
  jailerPath: string;
}

// The build scripts sit in the repository beside this package; the same two levels up from src/ and dist/.
const KERNEL_BUILD = fileURLToPath(new URL('../../guest-kernel/build.sh', import.meta.url));
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
export async function resolveGuestAssets(cacheDir: string, signal?: AbortSignal): Promise<GuestAssets> {
  const env = { ...process.env, SCAIBUNKER_CACHE_DIR: cacheDir };
  const [kernel, agent, jailer] = [KERNEL_BUILD, AGENT_BUILD, JAILER_BUILD].map((script) => runCommand('bash', [script], { env, ...(signal ? { signal } : {}) }));
  return { kernelPath: lastLine((await kernel!).stdout), agentPath: lastLine((await agent!).stdout), jailerPath: lastLine((await jailer!).stdout) };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)!.trim();
}
