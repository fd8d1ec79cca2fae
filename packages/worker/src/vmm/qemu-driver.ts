import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, createWriteStream, existsSync, openSync } from 'node:fs';
import { lchown, readFile, rm, stat } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ScaiError } from '@scaibunker/contracts';
import type { CgroupManager, VmCgroup } from '../cgroup/cgroup-limits.js';
import { QmpClient } from './qmp-client.js';
import type { Accelerator, PreparedRestore, VmHandle, VmmDriver, VmSpec } from './vmm-driver.js';

/** How the QEMU driver runs. */
export interface QemuDriverOptions {
  /** Absolute path: the jail has no PATH lookup of the host's to offer. */
  qemuBinary: string;
  /** Starts each VMM in its own mount namespace and chroot (see packages/worker/jailer). */
  jail: VmmJail;
  accelerator: Accelerator;
  /** Host TSC frequency for `tsc_early_khz` (see host-facts.ts); omitted when unknown. */
  tscKhz: number | undefined;
  /** Puts each VM process in its own cgroup (CPU, memory, pids). */
  cgroups: CgroupManager;
}

/** Where the jailer is and the (empty, root-owned) directory each jail's tmpfs is mounted on. */
export interface VmmJail {
  jailerPath: string;
  rootDir: string;
}

/**
 * What every jail holds read-only besides the VM's own files: QEMU, its libraries, modules
 * and firmware (all under /usr; the rest are Debian's merged-/usr symlinks, recreated as such).
 */
const SYSTEM_PATHS = ['/usr', '/bin', '/sbin', '/lib', '/lib64'];
const DEVICES = ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random'];

/** QEMU's own memory beside guest RAM: TCG code cache (~50 MiB), the mapped kernel, devices. */
const VMM_OVERHEAD_MB = 160;
/** Threads of one QEMU: a vCPU each, the main loop, RCU, I/O workers. */
const VMM_PIDS = 128;

/**
 * Boots and restores QEMU `-M microvm` guests: no PCI, no ACPI, no firmware; the kernel is
 * loaded directly (PVH), the root disk, the agent's one virtio-serial port and an RNG are
 * virtio-mmio devices. Migration never uses `exec:` (QEMU's seccomp sandbox forbids it to
 * spawn anything): state is saved through a unix socket and restored from an inherited fd.
 */
export class QemuDriver implements VmmDriver {
  readonly name = 'qemu' as const;
  readonly accelerator: Accelerator;
  private readonly binary: string;

  constructor(private readonly options: QemuDriverOptions) {
    this.accelerator = options.accelerator;
    this.binary = options.qemuBinary;
  }

  boot(spec: VmSpec): Promise<VmHandle> {
    return this.start(spec, 'boot', []);
  }

  async restore(spec: VmSpec, statePath: string): Promise<VmHandle> {
    // QEMU reads the state straight from the file as its fd 3: no copy through us, no spawn
    // inside its sandbox, and the jail uid never needs to read the (root-only) template.
    const stateFd = openSync(statePath, constants.O_RDONLY);
    let handle: QemuVm;
    try {
      handle = await this.start(spec, 'restore', ['-incoming', 'fd:3'], stateFd);
    } finally {
      closeSync(stateFd);
    }
    // A state saved from a running VM runs by itself once loaded (QEMU's autostart), so the
    // caller can already connect to the agent: nothing here waits for the load. One saved
    // paused needs a `cont` after it; a load that fails ends the VM, which the caller sees.
    handle.startAfterIncoming().catch(() => handle.kill());
    return handle;
  }

  /**
   * The same restore, in two steps: QEMU starts now with `-incoming defer` (the state file
   * already its fd 3, its monitor connected) and loads the state on `load()`, one monitor
   * command, as Firecracker is started first and loads a snapshot on request.
   */
  async prepareRestore(spec: VmSpec, statePath: string): Promise<PreparedRestore> {
    const stateFd = openSync(statePath, constants.O_RDONLY);
    let handle: QemuVm;
    try {
      handle = await this.start(spec, 'restore', ['-incoming', 'defer'], stateFd, { awaitMonitor: true });
    } finally {
      closeSync(stateFd);
    }
    return {
      vm: handle,
      load: async () => {
        await handle.loadIncoming('fd:3');
        handle.startAfterIncoming().catch(() => handle.kill());
        return handle;
      },
    };
  }

  /**
   * Takes over a VM a previous worker process started (an upgrade, a crash: the VMM runs
   * detached and outlives it), when `pid` is still that VM's QEMU. Answers undefined when the
   * process is gone or is not this VM's (a recycled pid).
   */
  async adopt(spec: VmSpec, pid: number): Promise<VmHandle | undefined> {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes(join(spec.workDir, 'qmp.sock'))) return undefined;
    // The same name: the cgroup exists already, and its limits are written again unchanged.
    const cgroup = await this.options.cgroups.create(spec.id, {
      cpuMillicores: spec.cpuMillicores, memoryBytes: (spec.memoryMb + VMM_OVERHEAD_MB) * 1024 * 1024, pids: VMM_PIDS, background: spec.background,
    });
    const alive = () => existsSync(`/proc/${pid}`);
    // Not our child: no exit event, so its exit is noticed by looking.
    const exited = new Promise<number | null>((resolve) => {
      const timer = setInterval(() => { if (!alive()) { clearInterval(timer); resolve(null); } }, 500);
      timer.unref();
    }).finally(() => cgroup.remove().catch(() => undefined));
    const monitor = QmpClient.connect(join(spec.workDir, 'qmp.sock'), 5000);
    monitor.catch(() => undefined);
    return new QemuVm(spec, { pid, running: alive, kill: () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } }, exited, monitor, cgroup);
  }

  /**
   * The full QEMU command line for a spec. A restore loads no kernel: guest memory comes
   * whole from the saved state, so reading and copying the kernel in first (~8 ms, and guest
   * pages touched for nothing) is wasted.
   */
  argv(spec: VmSpec, extra: string[], start: 'boot' | 'restore' = 'boot'): string[] {
    const kvm = this.accelerator === 'kvm';
    const stock = spec.kernelFlavour === 'stock';
    const cmdline = [
      'console=ttyS0', 'root=/dev/vda', 'rootfstype=ext4', 'rw', 'init=/sbin/scaibunker-agent', 'quiet',
      'reboot=t', 'panic=-1', 'random.trust_cpu=on', 'tsc=reliable', 'no_timer_check',
      ...(this.options.tscKhz ? [`tsc_early_khz=${this.options.tscKhz}`] : []),
      // One vCPU needs no LAPIC timer calibration, which is ~170 ms of a TCG boot. Not for the
      // stock kernel: under microvm's ACPI it sets up no PIT, so the LAPIC is its only clock.
      ...(spec.vcpus === 1 && !stock ? ['nolapic_timer'] : []),
      // What our kernel has built into its command line (see scaibunker.config), plus no
      // boot-time crypto self-tests: together ~0.4 s of the stock kernel's TCG boot.
      ...(stock ? ['noreplace-smp', 'cryptomgr.notests'] : []),
      `scaibunker.hostname=${spec.hostname}`,
    ].join(' ');
    return [
      // The stock kernel cannot read virtio-mmio devices from its command line: ACPI describes them.
      '-M', `microvm,rtc=on,acpi=${stock ? 'on' : 'off'}`,
      '-accel', kvm ? 'kvm' : 'tcg,thread=multi',
      '-cpu', kvm ? 'host,-arch-capabilities' : 'max',
      '-m', `${spec.memoryMb}M`,
      '-smp', String(spec.vcpus),
      '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
      // A ring buffer, not a file: a guest writing its console forever must not fill the host disk.
      '-chardev', 'ringbuf,id=console,size=65536',
      '-serial', 'chardev:console',
      ...(start === 'boot' ? ['-kernel', spec.kernelPath, ...(spec.initrdPath ? ['-initrd', spec.initrdPath] : []), '-append', cmdline] : []),
      '-drive', `id=root,file=${spec.diskPath},format=${spec.diskFormat},if=none,cache=unsafe,discard=unmap,detect-zeroes=unmap`,
      '-device', 'virtio-blk-device,drive=root',
      '-device', 'virtio-serial-device,max_ports=2',
      '-chardev', `socket,id=agent,path=${join(spec.workDir, 'agent.sock')},server=on,wait=off`,
      '-device', 'virtserialport,chardev=agent,name=org.scaibunker.agent.0',
      '-device', 'virtio-rng-device',
      // Taps the jailer opened (fd 10 + i); no vhost (absent here, and the VMM runs unprivileged).
      ...(spec.network?.nics ?? []).flatMap((nic, i) => [
        '-netdev', `tap,id=nic${i},fd=${10 + i},vhost=off`,
        '-device', `virtio-net-device,netdev=nic${i},mac=${nic.mac}`,
      ]),
      '-qmp', `unix:${join(spec.workDir, 'qmp.sock')},server=on,wait=off`,
      '-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
      ...extra,
    ];
  }

  /** The jailer's arguments: who the VMM runs as and the only host paths it can see. */
  private jailArgs(spec: VmSpec, start: 'boot' | 'restore', cgroupProcsFiles: string[]): string[] {
    const kernel = start === 'boot' ? [spec.kernelPath, ...(spec.initrdPath ? [spec.initrdPath] : [])] : [];
    const readOnly = [...SYSTEM_PATHS.filter((path) => existsSync(path)), ...kernel, ...spec.sharedFiles];
    const devices = [...DEVICES, ...(this.accelerator === 'kvm' ? ['/dev/kvm'] : [])];
    return [
      '--root', this.options.jail.rootDir, '--uid', String(spec.jailUid), '--gid', String(spec.jailUid), '--cwd', spec.workDir,
      // The jailer opens the taps inside the bunker's namespace, as fds 10, 11, …
      ...(spec.network ? ['--netns', spec.network.netnsPath, ...spec.network.nics.flatMap((nic) => ['--tap', nic.netnsPath ? `${nic.netnsPath}:${nic.tap}` : nic.tap])] : []),
      ...cgroupProcsFiles.flatMap((file) => ['--cgroup-procs', file]),
      ...readOnly.flatMap((path) => ['--ro', path]),
      '--rw', spec.workDir,
      ...devices.flatMap((path) => ['--dev', path]),
    ];
  }

  private async start(spec: VmSpec, start: 'boot' | 'restore', extra: string[], incomingFd?: number, options: { awaitMonitor?: boolean } = {}): Promise<QemuVm> {
    await Promise.all(['agent.sock', 'qmp.sock'].map((f) => rm(join(spec.workDir, f), { force: true })));
    const stderrPath = join(spec.workDir, 'qemu.stderr');
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
      // Jailed like Firecracker's jailer does it: the cgroup joined before QEMU allocates
      // anything, a mount namespace and chroot that hold only this VM's files (another VM's
      // disk, sockets and state do not exist in there), its own unprivileged uid/gid, and
      // QEMU's seccomp sandbox on top.
      child = spawn(this.options.jail.jailerPath, [...this.jailArgs(spec, start, cgroup.procsFiles), '--', this.binary, ...this.argv(spec, extra, start)], {
        stdio: incomingFd === undefined ? ['ignore', 'ignore', stderrFd] : ['ignore', 'ignore', stderrFd, incomingFd], detached: true,
      });
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
    // QEMU dying at start says why on stderr: that, not a closed socket, is the error to give.
    const exitedEarly = exited.then(async (code) => {
      const stderr = await readFile(stderrPath, 'utf8').catch(() => '');
      throw new ScaiError('VM_BOOT_FAILED', `QEMU exited with ${code} at start: ${stderr.trim().slice(0, 500)}`);
    });
    exitedEarly.catch(() => undefined);
    try {
      await Promise.race([waitForPath(join(spec.workDir, 'qmp.sock'), 10_000), exitedEarly]);
      // A restoring QEMU answers its monitor only once the state is loaded: the monitor is
      // connected on the side while the caller already reaches for the agent.
      const qmp = QmpClient.connect(join(spec.workDir, 'qmp.sock'), 5000);
      if (start === 'boot' || options.awaitMonitor) await Promise.race([qmp, exitedEarly]);
      else qmp.catch(() => child.kill('SIGKILL'));
      const vmm: VmmProcess = { pid: child.pid ?? 0, running: () => child.exitCode === null && child.signalCode === null, kill: () => child.kill('SIGKILL') };
      return new QemuVm(spec, vmm, exited, qmp, cgroup);
    } catch (error) {
      child.kill('SIGKILL');
      // Wait for the exit (and so the cgroup's removal): a retry reuses the VM's name.
      await exited;
      throw error;
    }
  }
}

/** The VMM process: our child, or one a previous worker process started and this one adopted. */
interface VmmProcess {
  readonly pid: number;
  running(): boolean;
  kill(): void;
}

class QemuVm implements VmHandle {
  readonly pid: number;

  constructor(
    private readonly spec: VmSpec,
    private readonly process: VmmProcess,
    readonly exited: Promise<number | null>,
    private readonly monitor: Promise<QmpClient>,
    private readonly cgroup: VmCgroup,
  ) {
    this.pid = process.pid;
    void exited.then(() => monitor.then((qmp) => qmp.close(), () => undefined));
  }

  get id(): string {
    return this.spec.id;
  }

  connectAgent(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(this.spec.workDir, 'agent.sock'));
      socket.once('connect', () => { socket.off('error', reject); resolve(socket); });
      socket.once('error', reject);
    });
  }

  async pause(): Promise<void> {
    await (await this.monitor).execute('stop');
  }

  async resume(): Promise<void> {
    await (await this.monitor).execute('cont');
  }

  async saveState(path: string): Promise<void> {
    const outgoing = join(this.spec.workDir, 'outgoing.sock');
    await rm(outgoing, { force: true });
    let resolveReceived!: () => void;
    let rejectReceived!: (error: Error) => void;
    const received = new Promise<void>((resolve, reject) => { resolveReceived = resolve; rejectReceived = reject; });
    received.catch(() => undefined);
    const server = createServer((socket) => {
      pipeline(socket, createWriteStream(path)).then(resolveReceived, rejectReceived);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(outgoing, resolve);
      });
      // QEMU runs under the VM's jail uid: the socket (made by us, root) must be its to connect
      // to. lchown: never follow a link the jail may have put in its place.
      await lchown(outgoing, this.spec.jailUid, this.spec.jailUid);
      // The default 32 MiB/s cap would make a 128 MiB guest's save take seconds.
      await (await this.monitor).execute('migrate-set-parameters', { 'max-bandwidth': 8 * 1024 * 1024 * 1024 });
      await (await this.monitor).execute('migrate', { uri: `unix:${outgoing}` });
      // Both: QEMU says it completed, and every byte reached the file. A failed migration
      // never connects, so waiting on the bytes alone could hang.
      await Promise.all([received, this.migrationEnd()]);
    } finally {
      server.close();
    }
  }

  /** Resolves when the outgoing migration completed, throws when it failed or was cancelled. */
  private async migrationEnd(): Promise<void> {
    for (;;) {
      const info = await (await this.monitor).execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (info.status === 'completed') return;
      if (info.status === 'failed' || info.status === 'cancelled') throw new ScaiError('INTERNAL', `Saving VM state failed: ${info['error-desc'] ?? info.status}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Starts loading the state of a VM started with `-incoming defer` from `uri`. */
  async loadIncoming(uri: string): Promise<void> {
    await (await this.monitor).execute('migrate-incoming', { uri });
  }

  /** Waits for an incoming migration to finish loading, then runs the VM. */
  async startAfterIncoming(): Promise<void> {
    for (;;) {
      const { status } = await (await this.monitor).execute<{ status: string }>('query-status');
      if (status === 'running') return;
      if (status !== 'inmigrate') break;
      await new Promise((r) => setTimeout(r, 1));
    }
    const migration = await (await this.monitor).execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (migration.status && migration.status !== 'completed') {
      throw new ScaiError('VM_BOOT_FAILED', `Loading the VM state failed: ${migration['error-desc'] ?? migration.status}`);
    }
    await (await this.monitor).execute('cont');
  }

  async growDisk(sizeMb: number): Promise<void> {
    await (await this.monitor).execute('block_resize', { device: 'root', size: sizeMb * 1024 * 1024 });
  }

  async kill(): Promise<void> {
    if (!this.process.running()) return;
    this.process.kill();
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

/** Waits for a path (a socket QEMU creates) to appear. */
async function waitForPath(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await stat(path).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new ScaiError('VM_BOOT_FAILED', `${path} did not appear within ${timeoutMs} ms.`);
}
