import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { readFile, realpath, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';
import type { CgroupManager, VmCgroup } from '../cgroup/cgroup-limits.js';
import { FirecrackerApi } from './firecracker-api.js';
import { connectVsockWhenListening } from './firecracker-vsock.js';
import { copyOutOfJail, openJailFile } from './jail-files.js';
import type { VmmJail } from './qemu-driver.js';
import type { Accelerator, VmHandle, VmmDriver, VmSpec } from './vmm-driver.js';

/** How the Firecracker driver runs. */
export interface FirecrackerDriverOptions {
  /** Absolute path (see findFirecrackerBinary): the jail has no PATH lookup of the host's to offer. */
  firecrackerBinary: string;
  /** Starts each VMM in its own mount namespace and chroot (see packages/worker/jailer). */
  jail: VmmJail;
  /** Host TSC frequency for `tsc_early_khz` (see host-facts.ts); omitted when unknown. */
  tscKhz: number | undefined;
  /** Puts each VM process in its own cgroup (CPU, memory, pids). */
  cgroups: CgroupManager;
  /** How long connectAgent waits for the agent to listen on its vsock port (default 10 s). */
  agentConnectTimeoutMs?: number;
}

/** The guest vsock port the agent listens on (its default for `scaibunker.transport=vsock`). */
export const AGENT_VSOCK_PORT = 1024;
/** CIDs 0-2 are the hypervisor, loopback and host; every VM has its own device, so all use 3. */
const GUEST_CID = 3;
const API_SOCKET = 'fc.sock';
/** Relative to the work directory (Firecracker's cwd): see rootDrivePath. */
const VSOCK_SOCKET = 'v.sock';
const ROOT_DRIVE = 'rootfs';
/** Where Firecracker writes a snapshot; saveState then copies it out of the jail's reach. */
const SNAPSHOT_STATE = 'snapshot.state';
const SNAPSHOT_MEMORY = 'snapshot.mem';
/** Writing (or mapping) the memory of a large guest is not one quick call. */
const SNAPSHOT_TIMEOUT_MS = 10 * 60_000;
/**
 * Firecracker's own memory beside guest RAM is a few MiB (its docs say under 5); the rest is
 * headroom for page cache of a restored VM's memory file charged to this cgroup. An estimate:
 * no Firecracker has run on the machines this was written on.
 */
const VMM_OVERHEAD_MB = 64;
/** Threads of one Firecracker: a vCPU each, the VMM event loop, the API server. */
const VMM_PIDS = 64;
/** Device nodes in every jail: KVM (Firecracker has no emulation) and the harmless ones. */
const DEVICES = ['/dev/kvm', '/dev/null', '/dev/zero', '/dev/urandom', '/dev/random'];

/** The memory file that goes with a state file: `saveState(path)` writes both, `restore` reads both. */
export function snapshotMemoryPath(statePath: string): string {
  return `${statePath}.mem`;
}

/**
 * Boots and restores Firecracker microVMs through its REST API on a unix socket. The agent is
 * reached over virtio-vsock (Firecracker has no virtio-serial): the guest is booted with
 * `scaibunker.transport=vsock`, and connectAgent does Firecracker's `CONNECT` handshake.
 * Jailed as the QEMU driver is, by scaibunker-jailer rather than Firecracker's own jailer
 * (which wants every file hard-linked into its chroot): cgroup joined before exec, a mount
 * namespace and chroot holding only this VM's files, its own uid; Firecracker's built-in
 * seccomp filters stay on. Written against Firecracker's API docs (swagger, vsock.md,
 * snapshot-support.md, patch-block.md) and tested only against a stand-in API server: no
 * Firecracker binary has been available where it was written.
 */
export class FirecrackerDriver implements VmmDriver {
  readonly name = 'firecracker' as const;
  /** Firecracker runs guests on KVM only; it has no emulation to fall back to. */
  readonly accelerator: Accelerator = 'kvm';
  private readonly binary: string;

  constructor(private readonly options: FirecrackerDriverOptions) {
    this.binary = options.firecrackerBinary;
  }

  async boot(spec: VmSpec): Promise<VmHandle> {
    refuseNetwork(spec);
    const drivePath = rootDrivePath(spec);
    const vm = await this.start(spec, [spec.kernelPath, ...(spec.initrdPath ? [spec.initrdPath] : [])]);
    try {
      await vm.api.put('/machine-config', { vcpu_count: spec.vcpus, mem_size_mib: spec.memoryMb });
      await vm.api.put('/boot-source', {
        kernel_image_path: spec.kernelPath, boot_args: this.bootArgs(spec), ...(spec.initrdPath ? { initrd_path: spec.initrdPath } : {}),
      });
      // Unsafe: guest flushes are not forwarded to the host disk, as QEMU's cache=unsafe.
      await vm.api.put(`/drives/${ROOT_DRIVE}`, { drive_id: ROOT_DRIVE, path_on_host: drivePath, is_root_device: true, is_read_only: false, cache_type: 'Unsafe' });
      await vm.api.put('/vsock', { guest_cid: GUEST_CID, uds_path: VSOCK_SOCKET });
      // virtio-rng, as QEMU's virtio-rng-device: the guest has entropy from its first instant.
      await vm.api.put('/entropy', {});
      await vm.api.put('/actions', { action_type: 'InstanceStart' });
    } catch (error) {
      await vm.kill();
      throw new ScaiError('VM_BOOT_FAILED', `Booting ${spec.id} on Firecracker failed: ${(error as Error).message}`, { cause: error });
    }
    return vm;
  }

  /**
   * Loads `statePath` and its memory file (snapshotMemoryPath) into a new Firecracker and runs
   * it. Firecracker opens both itself, as the jail uid (they are bound into its jail read-only),
   * so their mode must let it read them: saveState leaves them root-owned, 0444. The memory
   * file is mapped privately for the VM's whole life and must never change while a VM restored
   * from it runs.
   */
  async restore(spec: VmSpec, statePath: string): Promise<VmHandle> {
    refuseNetwork(spec);
    // The snapshot reopens the drive at the relative path it recorded: this spec's disk must be there.
    rootDrivePath(spec);
    const vm = await this.start(spec, [statePath, snapshotMemoryPath(statePath)]);
    try {
      await vm.api.put('/snapshot/load', {
        snapshot_path: statePath, mem_backend: { backend_type: 'File', backend_path: snapshotMemoryPath(statePath) }, resume_vm: true,
      }, SNAPSHOT_TIMEOUT_MS);
    } catch (error) {
      // A failed load ends the Firecracker process anyway (snapshot-support.md).
      await vm.kill();
      throw new ScaiError('VM_BOOT_FAILED', `Restoring ${spec.id} from ${statePath} on Firecracker failed: ${(error as Error).message}`, { cause: error });
    }
    return vm;
  }

  /**
   * The kernel command line: QEMU's console, quiet and timer arguments, Firecracker's way out
   * (`reboot=k`: the guest's reboot pulses the i8042 reset line and Firecracker exits; it has
   * no -no-reboot) and its boot-time savers (no PCI bus to probe, no i8042 aux/mux probing).
   * No `root=`: Firecracker appends `root=/dev/vda rw` for the root drive itself.
   */
  bootArgs(spec: VmSpec): string {
    return [
      'console=ttyS0', 'reboot=k', 'panic=-1', 'pci=off', 'i8042.noaux', 'i8042.nomux', 'i8042.dumbkbd',
      'rootfstype=ext4', 'init=/sbin/scaibunker-agent', 'quiet',
      'random.trust_cpu=on', 'tsc=reliable', 'no_timer_check',
      ...(this.options.tscKhz ? [`tsc_early_khz=${this.options.tscKhz}`] : []),
      ...(spec.vcpus === 1 ? ['nolapic_timer'] : []),
      'scaibunker.transport=vsock',
      `scaibunker.hostname=${spec.hostname}`,
    ].join(' ');
  }

  /**
   * The jailer's arguments: who the VMM runs as and the only host paths it can see. The binary
   * is bound by its real path (a symlink would be recreated dangling); official builds are
   * static, so it needs nothing else of the host's.
   */
  private jailArgs(spec: VmSpec, binary: string, readOnly: string[], cgroupProcsFiles: string[]): string[] {
    return [
      '--root', this.options.jail.rootDir, '--uid', String(spec.jailUid), '--gid', String(spec.jailUid), '--cwd', spec.workDir,
      ...cgroupProcsFiles.flatMap((file) => ['--cgroup-procs', file]),
      ...[binary, ...readOnly, ...spec.sharedFiles].flatMap((path) => ['--ro', path]),
      '--rw', spec.workDir,
      ...DEVICES.flatMap((path) => ['--dev', path]),
    ];
  }

  /** Starts Firecracker in its jail and waits for its API socket; `readOnly`: what it reads besides its work dir. */
  private async start(spec: VmSpec, readOnly: string[]): Promise<FirecrackerVm> {
    // Firecracker will not bind over an existing socket, and a restore binds the vsock one again.
    await Promise.all([API_SOCKET, VSOCK_SOCKET].map((f) => rm(join(spec.workDir, f), { force: true })));
    const binary = await realpath(this.binary).catch((error: Error) => {
      throw new ScaiError('VM_BOOT_FAILED', `The Firecracker binary ${this.binary} cannot be used: ${error.message}`, { cause: error });
    });
    const stderrPath = join(spec.workDir, 'firecracker.stderr');
    const cgroup = await this.options.cgroups.create(spec.id, {
      cpuMillicores: spec.cpuMillicores, memoryBytes: (spec.memoryMb + VMM_OVERHEAD_MB) * 1024 * 1024, pids: VMM_PIDS, background: spec.background,
    });
    let stderrFd: number;
    let child: ChildProcess;
    try {
      // The work dir belongs to the jail uid: never follow what a previous VMM left there.
      await rm(stderrPath, { force: true });
      stderrFd = openSync(stderrPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    } catch (error) {
      await cgroup.remove();
      throw error;
    }
    try {
      // The cgroup is joined by the jailer before exec, so before guest memory exists.
      // stdout carries both the guest's serial console and Firecracker's log: dropped, as
      // QEMU's console ring buffer is, so a guest printing forever cannot fill the host disk.
      // A failure to start (the jailer's or Firecracker's) is printed to stderr, which is kept.
      const args = [...this.jailArgs(spec, binary, readOnly, cgroup.procsFiles), '--', binary, '--api-sock', join(spec.workDir, API_SOCKET)];
      child = spawn(this.options.jail.jailerPath, args, { stdio: ['ignore', 'ignore', stderrFd], detached: true });
    } catch (error) {
      await cgroup.remove();
      throw error;
    } finally {
      closeSync(stderrFd);
    }
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', () => resolve(null));
    }).finally(() => cgroup.remove().catch(() => undefined));
    try {
      const api = await Promise.race([
        FirecrackerApi.waitForSocket(join(spec.workDir, API_SOCKET), 10_000),
        exited.then(async (code) => {
          const stderr = await readFile(stderrPath, 'utf8').catch(() => '');
          throw new ScaiError('VM_BOOT_FAILED', `Firecracker exited with ${code} at start: ${stderr.trim().slice(0, 500)}`);
        }),
      ]);
      return new FirecrackerVm(spec, child, exited, api, cgroup, this.options.agentConnectTimeoutMs ?? 10_000);
    } catch (error) {
      child.kill('SIGKILL');
      // Wait for the exit (and so the cgroup's removal): a retry reuses the VM's name.
      await exited;
      throw error;
    }
  }
}

class FirecrackerVm implements VmHandle {
  readonly pid: number;
  /** Aborted when the VMM exits, so that no connectAgent goes on retrying a dead VM. */
  private readonly alive = new AbortController();

  constructor(
    private readonly spec: VmSpec,
    private readonly child: ChildProcess,
    readonly exited: Promise<number | null>,
    readonly api: FirecrackerApi,
    private readonly cgroup: VmCgroup,
    private readonly agentConnectTimeoutMs: number,
  ) {
    this.pid = child.pid ?? 0;
    void exited.then((code) => this.alive.abort(new ScaiError('GUEST_UNREACHABLE', `Firecracker exited with ${code}.`)));
  }

  get id(): string {
    return this.spec.id;
  }

  /** Retries while the guest is still booting: nothing accepts on the port until the agent listens. */
  connectAgent(): Promise<Socket> {
    return connectVsockWhenListening(join(this.spec.workDir, VSOCK_SOCKET), AGENT_VSOCK_PORT, { timeoutMs: this.agentConnectTimeoutMs, signal: this.alive.signal });
  }

  async pause(): Promise<void> {
    await this.api.patch('/vm', { state: 'Paused' });
  }

  async resume(): Promise<void> {
    await this.api.patch('/vm', { state: 'Resumed' });
  }

  /**
   * Firecracker writes a snapshot as two files, the device state and the guest memory; they
   * become `path` and snapshotMemoryPath(path). It writes them into its own work directory
   * (the jail uid can write nowhere else), and are copied out from there into new root-owned,
   * read-only files that the jail holds no descriptor of. Taking a snapshot resets the vsock
   * device, so the agent's connection closes once the VM runs again; the agent listens on.
   */
  async saveState(path: string): Promise<void> {
    const state = join(this.spec.workDir, SNAPSHOT_STATE);
    const memory = join(this.spec.workDir, SNAPSHOT_MEMORY);
    await Promise.all([state, memory].map((f) => rm(f, { force: true })));
    try {
      // Firecracker snapshots only a paused VM (pausing a paused one is a no-op); the load
      // resumes it (`resume_vm`), as the VmHandle contract says a running VM restores running.
      await this.api.patch('/vm', { state: 'Paused' });
      await this.api.put('/snapshot/create', { snapshot_type: 'Full', snapshot_path: state, mem_file_path: memory }, SNAPSHOT_TIMEOUT_MS);
      await copyOutOfJail(state, path);
      await copyOutOfJail(memory, snapshotMemoryPath(path));
    } finally {
      await Promise.all([state, memory].map((f) => rm(f, { force: true })));
    }
  }

  /**
   * Grows the raw disk file, then tells Firecracker with `PATCH /drives/rootfs` (same path),
   * which re-reads the file's size and raises the virtio config interrupt, so the guest sees
   * the new capacity (docs/api_requests/patch-block.md). Only ever grows.
   */
  async growDisk(sizeMb: number): Promise<void> {
    const bytes = sizeMb * 1024 * 1024;
    const disk = await openJailFile(this.spec.diskPath, constants.O_WRONLY);
    try {
      const { size } = await disk.stat();
      if (size > bytes) throw new ScaiError('INTERNAL', `${this.spec.id}'s disk is ${size} bytes; it is never shrunk to ${bytes}.`);
      await disk.truncate(bytes);
    } finally {
      await disk.close();
    }
    await this.api.patch(`/drives/${ROOT_DRIVE}`, { drive_id: ROOT_DRIVE, path_on_host: rootDrivePath(this.spec) });
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  memoryPeakBytes(): Promise<number | undefined> {
    return this.cgroup.memoryPeakBytes();
  }

  async rssKib(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
}

/**
 * The root drive's path as Firecracker gets it: relative to the work directory, its cwd. A
 * snapshot records device paths as given and a restore reopens them as recorded (there is no
 * drive override, and the vsock one is new in 1.16), so relative paths are what let a VM saved
 * in one work directory be restored in another. The same goes for the vsock socket.
 *
 * Firecracker's virtio-blk treats the file as a flat image: it cannot open qcow2. A runtime
 * that picks this driver gives each VM a raw ext4 copy of the base or template disk instead of
 * an overlay: `cp --reflink=auto --sparse=always` (a copy-on-write clone on btrfs and XFS, a
 * copy of the used blocks only on ext4), truncated up to the VM's disk size.
 */
function rootDrivePath(spec: VmSpec): string {
  if (spec.diskFormat !== 'raw') {
    throw new ScaiError('VM_BOOT_FAILED', `Firecracker opens raw disk images only, and ${spec.id}'s disk is ${spec.diskFormat}; give it a raw (e.g. reflinked) copy.`);
  }
  const path = relative(spec.workDir, spec.diskPath);
  if (!path || isAbsolute(path) || path === '..' || path.startsWith(`..${sep}`)) {
    throw new ScaiError('VM_BOOT_FAILED', `${spec.id}'s disk ${spec.diskPath} must lie inside its work directory ${spec.workDir}, or a snapshot of it cannot be restored elsewhere.`);
  }
  return path;
}

/**
 * Firecracker opens its taps itself by name (PUT /network-interfaces), as the jail uid, which
 * needs a /dev/net/tun it may open inside its jail; none of that is built or testable here.
 */
function refuseNetwork(spec: VmSpec): void {
  if (spec.network) throw new ScaiError('NOT_SUPPORTED', 'Networked bunkers run under QEMU only for now (SCAIBUNKER_VMM=qemu); the Firecracker driver has no NICs yet.');
}
