import { randomBytes } from 'node:crypto';
import { chmod, chown, lchown, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '@scaibunker/core';
import { detectCgroupManager, type CgroupManager } from '../cgroup/cgroup-limits.js';
import { copyDisk, OverlayDisks } from '../disks/overlay-disk.js';
import { runCommand } from '../host/run-command.js';
import { ImageStore, type StoredImage } from '../images/image-store.js';
import { TEMPLATE_LAYOUT, TemplateStore, type Template } from '../templates/template-store.js';
import { chooseAccelerator, type AcceleratorChoice } from '../vmm/accelerator-probe.js';
import { hostTscKhz } from '../vmm/host-facts.js';
import { JailUids } from '../vmm/jail-uids.js';
import { QemuDriver, type VmmJail } from '../vmm/qemu-driver.js';
import { FirecrackerDriver } from '../vmm/firecracker-driver.js';
import { findFirecrackerBinary } from '../vmm/firecracker-binary.js';
import { VmLauncher, type RunningVm } from '../vmm/vm-launcher.js';
import type { VmmDriver, VmSpec } from '../vmm/vmm-driver.js';
import { addNetns, deleteNetns, ipBatch, listNetns, netnsPath, netnsTag } from '../network/netns.js';
import { runAs } from './guest-account.js';
import { StandbyVmms, type StandbyVmm } from './standby-vmms.js';
import { resolveGuestAssets, type GuestAssets, type KernelFlavour } from './guest-assets.js';

/** The disk size (the API's default `disk_mb`) that gets templates of its own, grown ahead. */
const GROWN_TEMPLATE_DISK_MB = 1024;

/** Where a runtime keeps its files. */
export interface VmRuntimeOptions {
  dataDir: string;
  cacheDir: string;
  /** `kvm` or `tcg` to skip the probe. */
  acceleratorOverride?: string | undefined;
  /** `minimal` (default) or Debian's `stock` cloud kernel, the fallback. */
  kernel?: KernelFlavour | undefined;
  /**
   * `overlay` (default): each VM's disk is a qcow2 overlay over a shared read-only base.
   * `copy`: a private sparse (reflinked where possible) raw copy; what Firecracker needs.
   */
  diskMode?: 'overlay' | 'copy' | undefined;
  /**
   * VMM processes kept started per restore shape, waiting to load a template (0, the default,
   * keeps none): a start from a template then skips QEMU's own start-up. A long-running
   * worker sets it (`SCAIBUNKER_STANDBY_VMMS`); tests and one-off tools leave it off, so they
   * leave no processes behind.
   */
  standbyVmms?: number | undefined;
  /** Spawn → agent-ready deadline of the boot watchdog. */
  readyTimeoutMs?: number;
  bootAttempts?: number;
}

/** What a VM is started with. */
export interface VmRequest {
  image: string;
  memoryMb?: number;
  vcpus?: number;
  cpuMillicores?: number;
  diskMb?: number;
  hostname?: string;
  /** `template` (default) restores the image's pre-booted template; `boot` cold-boots. */
  startFrom?: 'template' | 'boot';
  /** Who the VM is for (a bunker id): kept with it, so a restarted worker knows its VMs again. */
  label?: string;
  /** Idle CPU priority, until `foreground()`: a warm pool's VMs must not slow the bunkers that run. */
  background?: boolean;
  /** One NIC on a tap in a network namespace made for the VM (see BunkerNetworks); none: no NIC at all. */
  network?: VmNicRequest | undefined;
}

/** A VM's NIC: its tap (inside `netnsPath`), MAC, and the guest's settings (see AgentClient.setIdentity). */
export interface VmNicRequest {
  netnsPath: string;
  tap: string;
  mac: string;
  guestConfig: string;
  /** Further NICs (transit): taps in other namespaces (their bridges'), named and given their MACs by `transitConfig`. */
  transit?: { netnsPath: string; tap: string; mac: string }[] | undefined;
  transitConfig?: string | undefined;
  /** Settles when the rest of the network is in place: the guest takes its address only then. */
  ready?: Promise<void> | undefined;
}

/** A started VM that also cleans its files up when stopped. */
export interface RuntimeVm extends RunningVm {
  spec: VmSpec;
  startedFrom: 'template' | 'boot';
  /** Restored into a VMM started ahead of need (see `standbyVmms`). */
  standby: boolean;
  /**
   * Settles when the guest has taken its identity. A start answers once the identity is sent:
   * a clone of a sealed template serves nothing before it has it, so what follows on the agent
   * link waits for it. Rejected, the VM stays sealed: stop it.
   */
  identified: Promise<void>;
  label: string | undefined;
}

/** What a VM's work directory records about it, for a later worker process to adopt it. */
interface VmRecord {
  spec: VmSpec;
  pid: number;
  startedFrom: 'template' | 'boot';
  label: string | undefined;
}

/**
 * The microVM runtime of one host, usable without a controller: guest assets, images, the
 * accelerator decision, templates, and VMs with private copy-on-write disks.
 */
export class VmRuntime {
  private readonly templates: TemplateStore;
  private readonly overlays: OverlayDisks;
  private readonly standbys: StandbyVmms;

  private constructor(
    readonly assets: GuestAssets,
    readonly images: ImageStore,
    readonly accelerator: AcceleratorChoice,
    private readonly launcher: VmLauncher,
    readonly options: VmRuntimeOptions,
    private readonly uids: JailUids,
    private readonly vmmVersion: string,
    private readonly cgroups: CgroupManager,
  ) {
    this.templates = new TemplateStore(join(options.dataDir, 'templates'));
    this.overlays = new OverlayDisks(join(options.dataDir, 'disk-blanks'));
    this.standbys = new StandbyVmms({ perShape: launcher.canPrepare ? options.standbyVmms ?? 0 : 0, maxShapes: 8, idleMs: 10 * 60_000 });
  }

  /** Ends the standby VMMs (running VMs are their owners' to stop). */
  async close(): Promise<void> {
    await this.standbys.close();
  }

  static async open(options: VmRuntimeOptions): Promise<VmRuntime> {
    const assets = await resolveGuestAssets(options.cacheDir, options.kernel ?? 'minimal');
    const images = new ImageStore(options.dataDir, assets.agentPath);
    await images.ensureMinimal();
    const tscKhz = await hostTscKhz();
    const cgroups = await detectCgroupManager();
    const uids = new JailUids();
    const qemuBinary = (await runCommand('sh', ['-c', 'command -v qemu-system-x86_64'])).stdout.trim();
    const vmmVersion = (await runCommand(qemuBinary, ['--version'])).stdout.split('\n')[0] ?? '';
    // The jailed VMM processes traverse the data dir to reach their own work directory.
    await chmod(options.dataDir, 0o711);
    // Every jail mounts its private tmpfs here, inside its own mount namespace; on the host it stays empty.
    const jail = { jailerPath: assets.jailerPath, rootDir: join(options.dataDir, 'jail') };
    await mkdir(jail.rootDir, { recursive: true, mode: 0o755 });
    const qemu = { qemuBinary, jail, tscKhz, cgroups };
    const launchOptions = { readyTimeoutMs: options.readyTimeoutMs ?? 15_000, attempts: options.bootAttempts ?? 3 };
    const accelerator = await chooseAccelerator({
      cacheDir: options.cacheDir,
      kernelPath: assets.kernelPath,
      vmmVersion,
      override: options.acceleratorOverride,
      tryKvmBoot: async () => {
        const probeLauncher = new VmLauncher(new QemuDriver({ ...qemu, accelerator: 'kvm' }), { readyTimeoutMs: 5000, attempts: 1 });
        const probe = new VmRuntime(assets, images, { accelerator: 'kvm', reason: 'probe' }, probeLauncher, options, uids, vmmVersion, cgroups);
        const vm = await probe.start({ image: 'minimal', memoryMb: 128, startFrom: 'boot' });
        await vm.stop();
        return true;
      },
    });
    const vmm = await chooseVmm(accelerator.accelerator, { jail, tscKhz, cgroups, qemuBinary, qemuVersion: vmmVersion });
    const launcher = new VmLauncher(vmm.driver, launchOptions);
    const runtime = new VmRuntime(assets, images, accelerator, launcher, { ...options, diskMode: vmm.driver.name === 'firecracker' ? 'copy' : options.diskMode ?? 'overlay' }, uids, vmm.version, cgroups);
    await runtime.pruneTemplates();
    // Namespaces of template builds a crash cut short.
    for (const name of await listNetns(runtime.scratchNetnsPrefix)) await deleteNetns(name);
    return runtime;
  }

  /** Template builds of networked VMs boot with a tap in a namespace of their own, named so. */
  private get scratchNetnsPrefix(): string {
    return `sbt-${netnsTag(this.options.dataDir)}-`;
  }

  /** The VMM this runtime's VMs run under (`firecracker` when installed and KVM works, else `qemu`). */
  get vmm(): 'qemu' | 'firecracker' {
    return this.launcher.vmm;
  }

  /**
   * Runs a VM's first commands ahead of its user, as bunker commands run (the image's account:
   * its lookup, the privilege drop, a `PATH` search, the shell). Under TCG a QEMU process's
   * first exec costs ~50 ms, every guest code path it takes translated afresh, the next ~4 ms;
   * in a template it also leaves the agent's account cache and the shell's pages in memory.
   */
  async warmUp(running: RunningVm): Promise<void> {
    // Best effort: an image may have no shell or echo (its users then pay the first exec).
    for (const argv of [['sh', '-c', 'true'], ['echo']]) {
      const proc = running.agent.exec({ argv, ...runAs(undefined) });
      proc.stdout.resume();
      proc.stderr.resume();
      await proc.result.catch(() => undefined);
    }
  }

  /** Standby VMMs waiting per restore shape. */
  standbySizes(): Record<string, number> {
    return this.standbys.sizes();
  }

  /** Gives a background VM (a warm one, claimed) normal CPU priority; its record says so at the next relabel. */
  async foreground(vm: RuntimeVm): Promise<void> {
    await this.foregroundSpec(vm.spec);
  }

  private async foregroundSpec(spec: VmSpec): Promise<void> {
    if (!spec.background) return;
    await this.cgroups.setBackground(spec.id, false);
    spec.background = false;
  }

  /** A VMM started (at idle CPU priority) for a later restore of this template, with its own files. */
  private async prepareStandby(shape: { memoryMb: number; vcpus: number; cpuMillicores: number }, disk: Parameters<VmRuntime['createVm']>[1], statePath: string): Promise<StandbyVmm> {
    const vm = await this.createVm({ ...shape, background: true }, disk);
    try {
      return { ...vm, prepared: await this.launcher.prepare(vm.spec, statePath, vm.freshDisk) };
    } catch (error) {
      await vm.cleanUp();
      throw error;
    }
  }

  /** Gives a running VM (a warm one, claimed) its label, in memory and in its record. */
  async relabel(vm: RuntimeVm, label: string): Promise<void> {
    vm.label = label;
    await this.record(vm);
  }

  /** Writes a VM's record (root's, 0600, beside the jail-owned files: the VMM cannot rewrite who it is). */
  private async record(vm: RuntimeVm): Promise<void> {
    await this.writeRecord({ spec: vm.spec, pid: vm.vm.pid, startedFrom: vm.startedFrom, label: vm.label });
  }

  private async writeRecord(record: VmRecord): Promise<void> {
    await writeFile(join(record.spec.workDir, 'vm.json'), JSON.stringify(record), { mode: 0o600 });
  }

  /**
   * Finds the VMs a previous worker process left running in this data directory (they run
   * detached, so an upgrade or a crash of the worker does not end them) and takes them over;
   * the files of those that are gone are removed. A VM is trusted to be ours only when its
   * pid still runs a QEMU whose command line names its own work directory.
   */
  async adoptRunning(): Promise<RuntimeVm[]> {
    const vmsDir = join(this.options.dataDir, 'vms');
    const adopted: RuntimeVm[] = [];
    for (const id of await readdir(vmsDir).catch(() => [] as string[])) {
      const workDir = join(vmsDir, id);
      const record = await readFile(join(workDir, 'vm.json'), 'utf8').then((text) => JSON.parse(text) as VmRecord, () => undefined);
      const running = record && record.spec.workDir === workDir
        ? await this.launcher.adopt(record.spec, record.pid).catch(() => undefined)
        : undefined;
      if (!record || !running) {
        // A VM without its record (a template being built, a start cut short) may still run.
        await killVmmsOf(workDir);
        await rm(workDir, { recursive: true, force: true });
        continue;
      }
      this.uids.reserve(record.spec.jailUid);
      const cleanUp = async () => {
        await rm(workDir, { recursive: true, force: true });
        this.uids.release(record.spec.jailUid);
      };
      adopted.push({ ...running, spec: record.spec, startedFrom: record.startedFrom, standby: false, identified: Promise.resolve(), label: record.label, stop: async () => { await running.stop(); await cleanUp(); } });
    }
    return adopted;
  }

  /** Bakes the built-in images that are missing or carry an old agent: `minimal` and `debian-python`. */
  async ensureBuiltinImages(): Promise<void> {
    await this.images.ensureMinimal();
    await this.images.ensureDebianPython(this.options.cacheDir);
  }

  /** Removes templates that can never be restored again (see TemplateStore.prune). */
  async pruneTemplates(): Promise<string[]> {
    const images = await this.images.list();
    const pruned = await this.templates.prune({ imageDigests: new Set(images.map((i) => i.bakeId)), kernelPath: this.assets.kernelPath, vmmVersion: this.vmmVersion });
    // Blank overlays over a pruned template would only take space; the rest are rebuilt on demand.
    if (pruned.length > 0) await this.overlays.forget();
    return pruned;
  }

  /** Starts a VM of an image with its own overlay disk; `stop()` also removes its files. */
  async start(request: VmRequest): Promise<RuntimeVm> {
    const image = await this.images.get(request.image);
    const memoryMb = request.memoryMb ?? 128;
    const vcpus = request.vcpus ?? 1;
    const diskMb = Math.max(request.diskMb ?? image.sizeMib, image.sizeMib);
    // Growing a root filesystem online is ~0.1 s under TCG: the common disk size has its own
    // template, already grown, so a bunker of that size (or larger) starts without it.
    const templateDiskMb = diskMb >= GROWN_TEMPLATE_DISK_MB && image.sizeMib < GROWN_TEMPLATE_DISK_MB ? GROWN_TEMPLATE_DISK_MB : image.sizeMib;
    const nics = request.network ? 1 + (request.network.transit?.length ?? 0) : 0;
    const template = request.startFrom === 'boot' ? undefined : await this.template(image, memoryMb, vcpus, templateDiskMb, nics, request.network?.guestConfig);
    const network = request.network && { netnsPath: request.network.netnsPath, nics: [{ tap: request.network.tap, mac: request.network.mac }, ...(request.network.transit ?? [])] };
    const shape = { memoryMb, vcpus, cpuMillicores: request.cpuMillicores ?? 1000, background: request.background === true, network };
    const disk = template
      ? { backing: template.diskPath, format: this.diskFormat, sizeMb: templateDiskMb, chain: [template.diskPath, image.rootfsPath] }
      : { backing: image.rootfsPath, format: 'raw' as const, sizeMb: diskMb, chain: [image.rootfsPath] };
    // A standby VMM has no network namespace to join yet: networked VMs restore without one.
    const standbyShape = template && !network && `${template.key}:${shape.cpuMillicores}`;
    const standby = standbyShape ? this.standbys.take(standbyShape) : undefined;
    const vm = standby ?? await this.createVm({ ...shape, ...(request.hostname ? { hostname: request.hostname } : {}) }, disk);
    try {
      // A standby's pid is known before its restore: its record is written meanwhile.
      let recorded: Promise<void> | undefined;
      if (standby) {
        if (request.hostname) standby.spec.hostname = request.hostname;
        if (!shape.background) await this.foregroundSpec(standby.spec);
        recorded = this.writeRecord({ spec: standby.spec, pid: standby.prepared.vm.pid, startedFrom: 'template', label: request.label });
        recorded.catch(() => undefined);
      }
      const running = standby ? await this.launcher.restorePrepared(vm.spec, standby.prepared, template!.statePath, vm.freshDisk)
        : template ? await this.launcher.restore(vm.spec, template.statePath, vm.freshDisk) : await this.launcher.boot(vm.spec, vm.freshDisk);
      let identified: Promise<void>;
      try {
        await request.network?.ready;
        // A cold boot's disk is made at its full size; a restored one has its template's.
        const startMb = template ? templateDiskMb : image.sizeMib;
        ({ identified } = await this.personalise(running, vm.spec.hostname, { diskMb: template && diskMb > templateDiskMb ? diskMb : undefined, growFs: diskMb > startMb }, request.network && { net: request.network.guestConfig, nics: request.network.transitConfig }));
      } catch (error) {
        await running.stop();
        throw error;
      }
      const started: RuntimeVm = { ...running, spec: vm.spec, startedFrom: template ? 'template' : 'boot', standby: standby !== undefined, identified, label: request.label, stop: async () => { await running.stop(); await vm.cleanUp(); } };
      await (recorded ?? this.record(started));
      // After this start has answered: the next standby's spawn blocks this process for a few
      // ms (a fork of a large heap), and its QEMU starts at idle CPU priority. Delaying it
      // further was measured no better: a tight create loop then finds no standby waiting.
      if (template && standbyShape) setImmediate(() => this.standbys.replenish(standbyShape, () => this.prepareStandby(shape, disk, template.statePath)));
      return started;
    } catch (error) {
      await standby?.prepared.vm.kill();
      await vm.cleanUp();
      throw error;
    }
  }

  /**
   * Gives a running VM its own identity before first use (a clone would otherwise share its
   * template's RNG state, hostname, machine id and clock), grows its disk to `disk.diskMb`
   * and its root filesystem to fill the disk. Also how a warm VM becomes a bunker's.
   * Answers once the identity is sent, with `identified` for when the guest has it.
   */
  async personalise(running: RunningVm, hostname: string, disk: { diskMb?: number | undefined; growFs: boolean }, network?: { net: string; nics?: string | undefined }): Promise<{ identified: Promise<void> }> {
    if (disk.diskMb !== undefined) await running.vm.growDisk(disk.diskMb);
    // Not awaited (see RuntimeVm.identified): the guest takes it while the host answers the
    // start, which under TCG overlaps ~10 ms of guest work with the API's round trips.
    const identified = running.agent.setIdentity({ hostname, machineId: randomBytes(16).toString('hex'), entropy: randomBytes(64), timeMs: Date.now(), net: network?.net, nics: network?.nics });
    identified.catch(() => undefined);
    if (disk.growFs) {
      await identified;
      await running.agent.growRootFs();
    }
    return { identified };
  }

  /**
   * The image's template for this VM shape, built (boot, warm up, save) when missing. With
   * NICs it boots with taps in a scratch namespace (a restore needs the devices of the save)
   * and takes the first requester's network settings: their gateway and resolver are every
   * guest's (see network/addressing.ts), so a clone finds its route and /etc/resolv.conf in
   * place and sets only its own MAC and address.
   */
  private template(image: StoredImage, memoryMb: number, vcpus: number, diskMb: number, nics: number, guestConfig?: string): Promise<Template> {
    const identity = { layout: TEMPLATE_LAYOUT, image: image.name, imageDigest: image.bakeId, kernelPath: this.assets.kernelPath, vmmVersion: this.vmmVersion, memoryMb, vcpus, diskFormat: this.diskFormat, diskMb, nics };
    return this.templates.get(identity, async (dir) => {
      const scratch = nics > 0 ? `${this.scratchNetnsPrefix}${dir.split('/').pop()!.slice(0, 24)}` : undefined;
      if (scratch) {
        await deleteNetns(scratch);
        await addNetns(scratch);
        await ipBatch(scratch, Array.from({ length: nics }, (_, i) => `tuntap add dev tap${i} mode tap`));
      }
      const network = scratch ? { netnsPath: netnsPath(scratch), nics: Array.from({ length: nics }, (_, i) => ({ tap: `tap${i}`, mac: `02:00:00:00:00:${String(i + 1).padStart(2, '0')}` })) } : undefined;
      const vm = await this.createVm({ memoryMb, vcpus, cpuMillicores: 1000 * vcpus, hostname: 'template', network }, { backing: image.rootfsPath, format: 'raw', sizeMb: diskMb, chain: [image.rootfsPath] });
      try {
        const running = await this.launcher.boot(vm.spec, vm.freshDisk);
        try {
          if (diskMb > image.sizeMib) await running.agent.growRootFs();
          if (guestConfig) await running.agent.setIdentity({ net: guestConfig });
          // The shell's pages come in with the template's memory, not from disk at first use.
          await this.warmUp(running);
          await running.agent.seal();
          // No freeze: QEMU stops the VM and drains and flushes its disk before the state is
          // final, so the overlay holds exactly what the saved memory expects (dirty page
          // cache included, written back later by each clone to its own overlay), and a clone
          // needs no thaw (~14 ms of a TCG restore). Saved while running (QEMU stops it at the
          // end), so a restore runs by itself once loaded, with no monitor round trip first.
          const statePath = join(dir, 'state.bin.partial');
          await running.vm.saveState(statePath);
          await running.vm.kill();
          const diskPath = join(dir, 'disk.partial');
          await rename(vm.spec.diskPath, diskPath);
          return { statePath, diskPath };
        } finally {
          running.agent.close();
          await running.vm.kill();
        }
      } finally {
        await vm.cleanUp();
        if (scratch) await deleteNetns(scratch);
      }
    });
  }

  /** How VMs' disks are made: qcow2 overlays, or raw copies (Firecracker, or `diskMode: 'copy'`). */
  private get diskFormat(): 'qcow2' | 'raw' {
    return this.options.diskMode === 'copy' ? 'raw' : 'qcow2';
  }

  /** A work directory, a jail uid and a private disk for a new VM. */
  private async createVm(
    shape: { memoryMb: number; vcpus: number; cpuMillicores: number; background?: boolean; hostname?: string; network?: VmSpec['network'] },
    disk: { backing: string; format: 'raw' | 'qcow2'; sizeMb: number; /** Every file under the overlay: what the jail must show read-only. */ chain: string[] },
  ): Promise<{ spec: VmSpec; freshDisk: () => Promise<void>; cleanUp: () => Promise<void> }> {
    const id = newId('bunker');
    const workDir = join(this.options.dataDir, 'vms', id);
    await mkdir(join(this.options.dataDir, 'vms'), { recursive: true, mode: 0o711 });
    await mkdir(workDir, { mode: 0o700 });
    const jailUid = this.uids.allocate();
    const cleanUp = async () => {
      await rm(workDir, { recursive: true, force: true });
      this.uids.release(jailUid);
    };
    try {
      const spec: VmSpec = {
        id, workDir, kernelPath: this.assets.kernelPath, initrdPath: this.assets.initrdPath, kernelFlavour: this.assets.kernelFlavour,
        diskPath: join(workDir, `disk.${this.diskFormat}`), diskFormat: this.diskFormat,
        // A private copy reads nothing shared; an overlay reads its whole backing chain.
        sharedFiles: this.diskFormat === 'raw' ? [] : disk.chain,
        memoryMb: shape.memoryMb, vcpus: shape.vcpus, cpuMillicores: shape.cpuMillicores,
        hostname: shape.hostname ?? id.replace('_', '-').slice(0, 20), jailUid, background: shape.background === true,
        ...(shape.network ? { network: shape.network } : {}),
      };
      await chown(workDir, jailUid, jailUid);
      const freshDisk = async () => {
        await rm(spec.diskPath, { force: true });
        if (this.diskFormat === 'raw') await copyDisk(disk.backing, spec.diskPath, disk.sizeMb);
        else await this.overlays.create(disk.backing, disk.format, spec.diskPath, disk.sizeMb);
        await lchown(spec.diskPath, jailUid, jailUid);
      };
      return { spec, freshDisk, cleanUp };
    } catch (error) {
      await cleanUp();
      throw error;
    }
  }
}

/**
 * The VMM this host runs: Firecracker when its binary is installed and KVM really works (it
 * has no emulation), QEMU otherwise. The choice is logged by the caller through `name`.
 */
async function chooseVmm(
  accelerator: 'kvm' | 'tcg',
  common: { jail: VmmJail; tscKhz: number | undefined; cgroups: CgroupManager; qemuBinary: string; qemuVersion: string },
): Promise<{ driver: VmmDriver; version: string }> {
  const firecracker = accelerator === 'kvm' && process.env.SCAIBUNKER_VMM !== 'qemu' ? await findFirecrackerBinary() : undefined;
  if (firecracker) {
    const version = (await runCommand(firecracker, ['--version'])).stdout.split('\n')[0] ?? 'firecracker';
    return { driver: new FirecrackerDriver({ firecrackerBinary: firecracker, jail: common.jail, tscKhz: common.tscKhz, cgroups: common.cgroups }), version };
  }
  return { driver: new QemuDriver({ ...common, accelerator }), version: common.qemuVersion };
}

/** Kills whatever VMM process still serves a work directory (found by its command line). */
async function killVmmsOf(workDir: string): Promise<void> {
  const marker = join(workDir, 'qmp.sock');
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) {
      try { process.kill(Number(entry), 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}
