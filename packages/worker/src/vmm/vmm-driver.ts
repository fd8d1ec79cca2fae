import type { Socket } from 'node:net';

/** Which CPU virtualisation runs the guests. */
export type Accelerator = 'kvm' | 'tcg';

/** Everything needed to start one microVM. */
export interface VmSpec {
  /** Unique per host; names the VM's work directory. */
  id: string;
  /** Directory holding this VM's sockets, disk overlay and logs (created by the caller). */
  workDir: string;
  kernelPath: string;
  /** An initramfs, for kernels that build their drivers as modules (Debian's stock kernel). */
  initrdPath?: string | undefined;
  /** Our minimal kernel, or Debian's stock one (which needs ACPI to find its devices). */
  kernelFlavour?: 'minimal' | 'stock';
  /** The root disk: a qcow2 overlay (or raw image) private to this VM. */
  diskPath: string;
  diskFormat: 'qcow2' | 'raw';
  /** Read-only files the VM reads beside its own: the disk's backing chain (template, base image). */
  sharedFiles: string[];
  memoryMb: number;
  vcpus: number;
  /** CPU share the VM process may use (1000 = one core), enforced by its cgroup. */
  cpuMillicores: number;
  hostname: string;
  /** The unprivileged uid/gid the VMM process runs as; owns workDir and nothing else (see jailer.c). */
  jailUid: number;
  /** Runs at idle CPU priority (a warm-pool VM until a bunker claims it). */
  background?: boolean | undefined;
  /** Network devices: taps inside the network namespace the VMM joins. None: no NIC at all (`isolated`). */
  network?: VmNetwork | undefined;
}

/** A VM's NICs: tap devices in one network namespace (a bunker's). */
export interface VmNetwork {
  /** The namespace file the VMM process joins before it opens its taps. */
  netnsPath: string;
  /** A NIC's tap is in `netnsPath`, or in the NIC's own namespace (a transit bridge's). */
  nics: { tap: string; mac: string; netnsPath?: string | undefined }[];
}

/** A running microVM. */
export interface VmHandle {
  readonly id: string;
  readonly pid: number;
  /** Resolves with the exit code when the VMM process ends (for any reason). */
  readonly exited: Promise<number | null>;
  /**
   * A byte stream to the guest agent's port: QEMU serves the virtio-serial port on a unix
   * socket; Firecracker multiplexes vsock ports over one socket with a `CONNECT` handshake.
   */
  connectAgent(): Promise<Socket>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /**
   * Writes the VM's device and memory state to a file (the disk is not included). A running VM
   * is stopped at the end and restores running; a paused one restores paused and is resumed.
   */
  saveState(path: string): Promise<void>;
  /** Grows the root disk to `sizeMb` while running; the guest sees a capacity change. */
  growDisk(sizeMb: number): Promise<void>;
  /** Stops the VMM process at once (SIGKILL after a short grace). */
  kill(): Promise<void>;
  /** Resident memory of the VMM process, in KiB. */
  rssKib(): Promise<number>;
  /** Peak memory of the VM's cgroup, where the host reports it. */
  memoryPeakBytes(): Promise<number | undefined>;
}

/**
 * A VMM process started ahead of need, its devices set up, waiting to load one saved state:
 * what a restore costs before the guest runs (QEMU's own start-up, ~30 ms) is paid early.
 */
export interface PreparedRestore {
  readonly vm: VmHandle;
  /** Loads the state; the VM then runs by itself (it was saved running). */
  load(): Promise<VmHandle>;
}

/** A VMM: boots VMs from a spec or restores them from saved state. */
export interface VmmDriver {
  readonly name: 'qemu' | 'firecracker';
  readonly accelerator: Accelerator;
  boot(spec: VmSpec): Promise<VmHandle>;
  restore(spec: VmSpec, statePath: string): Promise<VmHandle>;
  /** Starts the VMM for a restore now and loads the state later (QEMU only, for now). */
  prepareRestore?(spec: VmSpec, statePath: string): Promise<PreparedRestore>;
  /** Takes over a VM a previous worker process started, if `pid` is still its VMM (QEMU only, for now). */
  adopt?(spec: VmSpec, pid: number): Promise<VmHandle | undefined>;
}
