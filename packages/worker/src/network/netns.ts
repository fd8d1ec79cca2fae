import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandError, runCommand, type CommandOutput } from '../host/run-command.js';

/** Where `ip netns` keeps named network namespaces (bind mounts that keep them alive). */
const NETNS_DIR = '/run/netns';

/** The file a process joins to enter the named namespace (see jailer.c `--netns`). */
export function netnsPath(name: string): string {
  return join(NETNS_DIR, name);
}

/**
 * A short tag naming one worker's namespaces (from its data directory): several workers may
 * share a host, and each cleans up only its own.
 */
export function netnsTag(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 8);
}

/** Named network namespaces whose name starts with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  return (await readdir(NETNS_DIR).catch(() => [] as string[])).filter((name) => name.startsWith(prefix));
}

export async function addNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'add', name]);
}

/** Deletes a namespace (its devices, routes, nftables and qdiscs go with it); a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  await runCommand('ip', ['netns', 'delete', name]).catch((error: unknown) => {
    if (!(error instanceof CommandError && /No such file/.test(error.stderr))) throw error;
  });
}

/** `ip` commands, one per line, in one process, inside `netns` (undefined: this process's namespace). */
export function ipBatch(netns: string | undefined, lines: readonly string[]): Promise<CommandOutput> {
  return runCommand('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Runs a host tool inside `netns` (undefined: here). */
export function runIn(netns: string | undefined, file: string, args: readonly string[], input?: string): Promise<CommandOutput> {
  const options = input === undefined ? {} : { input };
  return netns ? runCommand('ip', ['netns', 'exec', netns, file, ...args], options) : runCommand(file, args, options);
}

/** Loads an nftables ruleset (one transaction: all of it applies, or none) inside `netns`. */
export function loadRuleset(netns: string | undefined, ruleset: string): Promise<CommandOutput> {
  return runIn(netns, 'nft', ['-f', '-'], ruleset);
}

/**
 * Kills the processes named `commands` (their /proc comm) that run inside any of these
 * namespaces: what a killed worker's helpers (deny-log readers, conntrack listeners) left,
 * which would otherwise hold their namespace's nflog group or outlive its bunker.
 */
export async function killStrays(netnsNames: readonly string[], commands: readonly string[]): Promise<number> {
  const inodes = new Set((await Promise.all(netnsNames.map((name) => stat(netnsPath(name)).then((s) => `net:[${s.ino}]`, () => undefined)))).filter(Boolean));
  if (inodes.size === 0) return 0;
  let killed = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const ns = await readlink(`/proc/${pid}/ns/net`).catch(() => undefined);
    if (!ns || !inodes.has(ns)) continue;
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (!commands.includes(comm)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}
