import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Limits for one VM's process, derived from the bunker's resources. */
export interface ProcessLimits {
  cpuMillicores: number;
  memoryBytes: number;
  pids: number;
  /** Idle CPU priority: the VM gets CPU only when others leave it (a warm-pool VM until claimed). */
  background?: boolean | undefined;
}

/** CPU weights (v2 `cpu.weight`, v1 `cpu.shares`): the kernel's minimum for background, its default otherwise. */
const CPU_WEIGHT = { 2: { background: 1, normal: 100 }, 1: { background: 2, normal: 1024 } } as const;

/** One VM's cgroup, on whichever hierarchy the host mounts. */
export interface VmCgroup {
  /** The `cgroup.procs` files a process joins by writing its pid (or "0", itself) to each. */
  readonly procsFiles: string[];
  addProcess(pid: number): Promise<void>;
  /** Peak memory use, when the hierarchy reports it. */
  memoryPeakBytes(): Promise<number | undefined>;
  remove(): Promise<void>;
}

/** Creates per-VM cgroups: v2 (unified) where the host has it, else v1 per-controller mounts. */
export interface CgroupManager {
  readonly version: 1 | 2;
  create(name: string, limits: ProcessLimits): Promise<VmCgroup>;
  /** Moves a VM's cgroup between idle and normal CPU priority (see ProcessLimits.background). */
  setBackground(name: string, background: boolean): Promise<void>;
}

const CFS_PERIOD_US = 100_000;

/** The CPU quota in µs per 100 ms period for a millicore count (1000 = one full core). */
export function cpuQuotaUs(cpuMillicores: number): number {
  return Math.max(1000, Math.round((cpuMillicores / 1000) * CFS_PERIOD_US));
}

/** Finds the host's cgroup layout under `root` (normally /sys/fs/cgroup). */
export async function detectCgroupManager(root = '/sys/fs/cgroup', parent = 'scaibunker'): Promise<CgroupManager> {
  if (await exists(join(root, 'cgroup.controllers'))) return new CgroupV2(root, parent);
  return new CgroupV1(root, parent);
}

class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;

  constructor(private readonly root: string, private readonly parent: string) {}

  async create(name: string, limits: ProcessLimits): Promise<VmCgroup> {
    const parentDir = join(this.root, this.parent);
    await mkdir(parentDir, { recursive: true });
    // Children can only use controllers their parent delegates.
    await writeFile(join(this.root, 'cgroup.subtree_control'), '+cpu +memory +pids').catch(() => undefined);
    await writeFile(join(parentDir, 'cgroup.subtree_control'), '+cpu +memory +pids');
    const dir = join(parentDir, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'cpu.max'), `${cpuQuotaUs(limits.cpuMillicores)} ${CFS_PERIOD_US}`);
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => undefined);
    await writeFile(join(dir, 'pids.max'), String(limits.pids));
    await this.setBackground(name, limits.background ?? false);
    return {
      procsFiles: [join(dir, 'cgroup.procs')],
      addProcess: (pid) => writeFile(join(dir, 'cgroup.procs'), String(pid)),
      memoryPeakBytes: async () => numberIn(join(dir, 'memory.peak')),
      remove: () => rmdir(dir).catch(ignoreMissing),
    };
  }

  async setBackground(name: string, background: boolean): Promise<void> {
    await writeFile(join(this.root, this.parent, name, 'cpu.weight'), String(CPU_WEIGHT[2][background ? 'background' : 'normal']));
  }
}

class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;

  constructor(private readonly root: string, private readonly parent: string) {}

  async create(name: string, limits: ProcessLimits): Promise<VmCgroup> {
    const dirs = { cpu: join(this.root, 'cpu', this.parent, name), memory: join(this.root, 'memory', this.parent, name), pids: join(this.root, 'pids', this.parent, name) };
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    await writeFile(join(dirs.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    await writeFile(join(dirs.cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpuMillicores)));
    await writeFile(join(dirs.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    await writeFile(join(dirs.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => undefined);
    await writeFile(join(dirs.pids, 'pids.max'), String(limits.pids));
    await this.setBackground(name, limits.background ?? false);
    return {
      procsFiles: Object.values(dirs).map((dir) => join(dir, 'cgroup.procs')),
      addProcess: async (pid) => { for (const dir of Object.values(dirs)) await writeFile(join(dir, 'cgroup.procs'), String(pid)); },
      memoryPeakBytes: async () => numberIn(join(dirs.memory, 'memory.max_usage_in_bytes')),
      remove: async () => { for (const dir of Object.values(dirs)) await rmdir(dir).catch(ignoreMissing); },
    };
  }

  async setBackground(name: string, background: boolean): Promise<void> {
    await writeFile(join(this.root, 'cpu', this.parent, name, 'cpu.shares'), String(CPU_WEIGHT[1][background ? 'background' : 'normal']));
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function numberIn(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : Number(text.trim());
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
