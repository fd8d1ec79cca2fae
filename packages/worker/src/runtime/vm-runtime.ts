import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from '@scaibunker/core';
import { detectCgroupManager } from '../cgroup/cgroup-limits.js';
import { createOverlayDisk } from '../disks/overlay-disk.js';
import { ImageStore } from '../images/image-store.js';
import { chooseAccelerator, type AcceleratorChoice } from '../vmm/accelerator-probe.js';
import { hostTscKhz } from '../vmm/host-facts.js';
import { QemuDriver } from '../vmm/qemu-driver.js';
import { JailUids } from '../vmm/jail-uids.js';
import { VmLauncher, type RunningVm } from '../vmm/vm-launcher.js';
import type { VmSpec } from '../vmm/vmm-driver.js';
import { resolveGuestAssets, type GuestAssets } from './guest-assets.js';

/** Where a runtime keeps its files. */
export interface VmRuntimeOptions {
  dataDir: string;
  cacheDir: string;
  /** `kvm` or `tcg` to skip the probe. */
  acceleratorOverride?: string | undefined;
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
}

/** A started VM that also cleans its files up when stopped. */
export interface RuntimeVm extends RunningVm {
  spec: VmSpec;
}

/**
 * The microVM runtime of one host, usable without a controller: guest assets, images, the
 * accelerator decision, and booting VMs with private copy-on-write disks.
 */
export class VmRuntime {
  private constructor(
    readonly assets: GuestAssets,
    readonly images: ImageStore,
    readonly accelerator: AcceleratorChoice,
    private readonly launcher: VmLauncher,
    private readonly options: VmRuntimeOptions,
    private readonly uids: JailUids,
  ) {}

  static async open(options: VmRuntimeOptions): Promise<VmRuntime> {
    const assets = await resolveGuestAssets(options.cacheDir);
    const images = new ImageStore(options.dataDir, assets.agentPath);
    await images.ensureMinimal();
    const tscKhz = await hostTscKhz();
    const cgroups = await detectCgroupManager();
    const uids = new JailUids();
    // The jailed VMM processes traverse the data dir to reach their own work directory.
    await chmod(options.dataDir, 0o711);
    const launchOptions = { readyTimeoutMs: options.readyTimeoutMs ?? 15_000, attempts: options.bootAttempts ?? 3 };
    const accelerator = await chooseAccelerator({
      cacheDir: options.cacheDir,
      kernelPath: assets.kernelPath,
      override: options.acceleratorOverride,
      tryKvmBoot: async () => {
        const probe = new VmRuntime(assets, images, { accelerator: 'kvm', reason: 'probe' },
          new VmLauncher(new QemuDriver({ accelerator: 'kvm', tscKhz, cgroups }), { readyTimeoutMs: 5000, attempts: 1 }), options, uids);
        const vm = await probe.start({ image: 'minimal', memoryMb: 128 });
        await vm.stop();
        return true;
      },
    });
    const launcher = new VmLauncher(new QemuDriver({ accelerator: accelerator.accelerator, tscKhz, cgroups }), launchOptions);
    return new VmRuntime(assets, images, accelerator, launcher, options, uids);
  }

  /** Boots a VM of an image with its own overlay disk; `stop()` also removes its files. */
  async start(request: VmRequest): Promise<RuntimeVm> {
    const image = await this.images.get(request.image);
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
        id, workDir, kernelPath: this.assets.kernelPath,
        diskPath: join(workDir, 'disk.qcow2'), diskFormat: 'qcow2',
        memoryMb: request.memoryMb ?? 128, vcpus: request.vcpus ?? 1, cpuMillicores: request.cpuMillicores ?? 1000,
        hostname: request.hostname ?? id.replace('_', '-').slice(0, 20),
        jailUid,
      };
      await createOverlayDisk(image.rootfsPath, spec.diskPath, Math.max(request.diskMb ?? image.sizeMib, image.sizeMib));
      await chown(spec.diskPath, jailUid, jailUid);
      await chown(workDir, jailUid, jailUid);
      const running = await this.launcher.boot(spec);
      return {
        ...running,
        spec,
        stop: async () => {
          await running.stop();
          await cleanUp();
        },
      };
    } catch (error) {
      await cleanUp();
      throw error;
    }
  }
}
