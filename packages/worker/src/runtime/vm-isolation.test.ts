import { spawnSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, testRuntime } from '../testing/test-runtime.js';
import type { RuntimeVm } from './vm-runtime.js';

/** Two real VMs restored from one template: separate identities, separate jails. */
describe('VMs restored from one template', () => {
  let a: RuntimeVm;
  let b: RuntimeVm;

  beforeAll(async () => {
    const runtime = await testRuntime();
    a = await runtime.start({ image: 'minimal', memoryMb: 128 });
    b = await runtime.start({ image: 'minimal', memoryMb: 128 });
  }, 180_000);
  afterAll(async () => { await Promise.all([a?.stop(), b?.stop()]); });

  async function sh(vm: RuntimeVm, script: string): Promise<string> {
    const proc = vm.agent.exec({ argv: ['sh', '-c', script] });
    const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return out.toString();
  }

  it('start from the template', () => {
    expect([a.startedFrom, b.startedFrom]).toEqual(['template', 'template']);
  });

  it('never share RNG output, hostname or machine id', async () => {
    const probe = 'head -c 32 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo; hostname; cat /etc/machine-id; cat /proc/sys/kernel/random/boot_id';
    const [fromA, fromB] = await Promise.all([sh(a, probe), sh(b, probe)]);
    const [rngA, hostA, idA] = fromA.split('\n');
    const [rngB, hostB, idB] = fromB.split('\n');
    expect(rngA).toMatch(/^[0-9a-f]{64}$/);
    expect(rngA).not.toBe(rngB);
    expect(hostA).not.toBe(hostB);
    expect(idA).toMatch(/^[0-9a-f]{32}$/);
    expect(idA).not.toBe(idB);
  });

  it('has a guest clock set to the host’s time at restore', async () => {
    const guestSeconds = Number((await sh(a, 'date +%s')).trim());
    expect(Math.abs(guestSeconds - Date.now() / 1000)).toBeLessThan(5);
  });

  it('jails each VMM process: one VM’s uid cannot open another VM’s disk or sockets', () => {
    expect(a.spec.jailUid).not.toBe(b.spec.jailUid);
    const asA = (path: string) => spawnSync('cat', [path], { uid: a.spec.jailUid, gid: a.spec.jailUid, stdio: ['ignore', 'ignore', 'pipe'] });
    const foreignDisk = asA(b.spec.diskPath);
    expect(foreignDisk.status).not.toBe(0);
    expect(foreignDisk.stderr.toString()).toMatch(/Permission denied/);
    expect(asA(`${b.spec.workDir}/agent.sock`).stderr.toString()).toMatch(/Permission denied/);
    // …while its own disk is its to read.
    expect(asA(a.spec.diskPath).status).toBe(0);
  });

  it('chroots each VMM into a mount namespace that holds only its own files', () => {
    // /proc/PID/root is the VMM's own view of the filesystem.
    const seenByA = (path: string) => existsSync(`/proc/${a.vm.pid}/root${path}`);
    expect(seenByA(a.spec.diskPath)).toBe(true);
    expect(seenByA(a.spec.sharedFiles[0]!)).toBe(true); // the template's disk, read-only
    expect(seenByA(b.spec.workDir)).toBe(false);
    expect(seenByA(b.spec.diskPath)).toBe(false);
    expect(seenByA('/etc/passwd')).toBe(false);
    expect(seenByA('/proc/1')).toBe(false);
    expect(readlinkSync(`/proc/${a.vm.pid}/ns/mnt`)).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    // A process inside A's jail (its mount namespace, root and uid) cannot open B's disk: it does not exist there.
    const inJailA = spawnSync('nsenter', ['--target', String(a.vm.pid), '--mount', '--root', `--setuid=${a.spec.jailUid}`, `--setgid=${a.spec.jailUid}`, 'cat', b.spec.diskPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    expect(inJailA.status).not.toBe(0);
    expect(inJailA.stderr.toString()).toMatch(/No such file or directory/);
    const ownDisk = spawnSync('nsenter', ['--target', String(a.vm.pid), '--mount', '--root', `--setuid=${a.spec.jailUid}`, `--setgid=${a.spec.jailUid}`, 'head', '-c', '4', a.spec.diskPath]);
    expect(ownDisk.status).toBe(0);
    expect(ownDisk.stdout.subarray(0, 3).toString()).toBe('QFI'); // the qcow2 magic
  });

  it('runs each VMM under its jail uid with QEMU’s seccomp sandbox on', async () => {
    const { readFileSync } = await import('node:fs');
    const status = readFileSync(`/proc/${a.vm.pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${a.spec.jailUid}\\s`, 'm'));
    expect(status).toMatch(/^Seccomp:\s+2/m);
  });
});

describe('template housekeeping', () => {
  it('prunes a template once its image is re-baked, and builds a fresh one on the next start', async () => {
    const runtime = await testRuntime();
    const { mkdtempSync, writeFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const root = mkdtempSync(join(tmpdir(), 'prune-src-'));
    const { runCommand } = await import('../host/run-command.js');
    await runCommand('mkdir', ['-p', join(root, 'bin')]);
    await runCommand('cp', ['/bin/busybox', join(root, 'bin/busybox')]);
    await runCommand('ln', ['-s', 'busybox', join(root, 'bin/sh')]);
    writeFileSync(join(root, 'version'), 'one\n');
    await runtime.images.bake('prunable', { kind: 'dir', path: root }, 32);
    const first = await runtime.start({ image: 'prunable', memoryMb: 96 });
    await first.stop();
    const templatesDir = join(first.spec.workDir, '..', '..', 'templates');
    const before = readdirSync(templatesDir).filter((d) => d.startsWith('prunable-'));
    expect(before).toHaveLength(1);
    writeFileSync(join(root, 'version'), 'two\n');
    await runtime.images.bake('prunable', { kind: 'dir', path: root }, 32);
    expect(await runtime.pruneTemplates()).toEqual(before);
    const second = await runtime.start({ image: 'prunable', memoryMb: 96 });
    const proc = second.agent.exec({ argv: ['sh', '-c', 'read v < /version; echo $v'] });
    const [out] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    await second.stop();
    expect(out.toString()).toBe('two\n');
  }, 180_000);
});
