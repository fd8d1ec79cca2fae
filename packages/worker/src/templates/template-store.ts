import { createHash } from 'node:crypto';
import { access, chmod, lchown, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A saved, frozen VM to start new VMs from: its device+memory state and its disk. */
export interface Template {
  key: string;
  dir: string;
  statePath: string;
  /** The template's disk, frozen at save time; restored VMs overlay (or copy) it in turn. */
  diskPath: string;
}

/** Where a template keeps a driver's second state file (Firecracker's guest memory). */
export const TEMPLATE_MEMORY_SUFFIX = '.mem';

/**
 * How templates are made; bumped when a change makes older ones unusable (2: saved without
 * freezing the root filesystem, so a clone needs no thaw; 3: keyed by their NICs; 4: a
 * networked template's guest has its gateway, route and resolver set).
 */
export const TEMPLATE_LAYOUT = 4;

/** What makes a template valid: change any of it and the template is rebuilt. */
export interface TemplateIdentity {
  layout: number;
  image: string;
  /** Changes whenever the image is re-baked (its bake id). */
  imageDigest: string;
  kernelPath: string;
  vmmVersion: string;
  memoryMb: number;
  vcpus: number;
  /** `qcow2` overlays, or `raw` copies (Firecracker, or SCAIBUNKER_DISK_MODE=copy). */
  diskFormat: 'qcow2' | 'raw';
  /** The disk (and root filesystem) size the template was saved with. */
  diskMb: number;
  /** Network devices: a restore needs the same devices as the save (0 for an isolated VM). */
  nics: number;
}

/**
 * Templates on disk under `<dataDir>/templates/<key>/`, keyed by everything the saved state
 * depends on, so a new image, kernel, agent or QEMU never restores a stale template.
 */
export class TemplateStore {
  private readonly building = new Map<string, Promise<Template>>();

  constructor(private readonly dir: string) {}

  static keyOf(identity: TemplateIdentity): string {
    const digest = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 20);
    return `${identity.image}-${identity.memoryMb}m-${identity.vcpus}c-${identity.diskMb}d-${digest}`;
  }

  /**
   * Deletes what can never be restored again: templates whose image was re-baked or removed,
   * that were saved by another kernel or QEMU or in an older layout, and builds a crash left half-done. Each
   * template is about as large as its guest's touched memory, so a long-lived worker must.
   */
  async prune(current: { imageDigests: ReadonlySet<string>; kernelPath: string; vmmVersion: string }): Promise<string[]> {
    const removed: string[] = [];
    for (const entry of await readdir(this.dir).catch(() => [] as string[])) {
      const dir = join(this.dir, entry);
      const identity = await readFile(join(dir, 'identity.json'), 'utf8').then((t) => JSON.parse(t) as TemplateIdentity, () => undefined);
      const stale = !identity || entry.includes('.building-') || identity.layout !== TEMPLATE_LAYOUT || !current.imageDigests.has(identity.imageDigest)
        || identity.kernelPath !== current.kernelPath || identity.vmmVersion !== current.vmmVersion;
      if (stale && !this.building.has(entry)) {
        await rm(dir, { recursive: true, force: true });
        removed.push(entry);
      }
    }
    return removed;
  }

  /** The template, building it once (concurrent callers share the build) when missing. */
  async get(identity: TemplateIdentity, build: (dir: string) => Promise<{ statePath: string; diskPath: string }>): Promise<Template> {
    const key = TemplateStore.keyOf(identity);
    const dir = join(this.dir, key);
    const ready = { key, dir, statePath: join(dir, 'state.bin'), diskPath: join(dir, `disk.${identity.diskFormat}`) };
    if (await access(join(dir, 'ready')).then(() => true, () => false)) return ready;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(dir, ready, identity, build).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private async build(dir: string, ready: Template, identity: TemplateIdentity, build: (dir: string) => Promise<{ statePath: string; diskPath: string }>): Promise<Template> {
    const staging = `${dir}.building-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o755 });
    try {
      const built = await build(staging);
      await rename(built.statePath, join(staging, 'state.bin'));
      const memory = `${built.statePath}${TEMPLATE_MEMORY_SUFFIX}`;
      if (await access(memory).then(() => true, () => false)) {
        // Firecracker maps it privately into each clone (its driver left it root-owned, 0444).
        await rename(memory, join(staging, `state.bin${TEMPLATE_MEMORY_SUFFIX}`));
      }
      const disk = join(staging, `disk.${identity.diskFormat}`);
      await rename(built.diskPath, disk);
      // The disk came out of a jail-owned directory: make sure it is a plain file of its own
      // (not a link a compromised VMM planted), then take it from the jail uid, which will
      // be reused by another VM, and make it read-only for every restored VM.
      const info = await lstat(disk);
      if (!info.isFile() || info.nlink !== 1) throw new Error('the template disk is not a plain file');
      await lchown(disk, 0, 0);
      await chmod(disk, 0o444);
      await chmod(join(staging, 'state.bin'), 0o400);
      await writeFile(join(staging, 'identity.json'), JSON.stringify(identity));
      await writeFile(join(staging, 'ready'), new Date().toISOString());
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      return ready;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }
}
