import { createHash } from 'node:crypto';
import { access, chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A saved, frozen VM to start new VMs from: its device+memory state and its disk. */
export interface Template {
  key: string;
  dir: string;
  statePath: string;
  /** The template's disk overlay, frozen at save time; restored VMs overlay it in turn. */
  diskPath: string;
}

/** What makes a template valid: change any of it and the template is rebuilt. */
export interface TemplateIdentity {
  image: string;
  /** Changes when the image is re-baked (it includes the agent build). */
  imageDigest: string;
  kernelPath: string;
  vmmVersion: string;
  memoryMb: number;
  vcpus: number;
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
    return `${identity.image}-${identity.memoryMb}m-${identity.vcpus}c-${digest}`;
  }

  /** The template, building it once (concurrent callers share the build) when missing. */
  async get(identity: TemplateIdentity, build: (dir: string) => Promise<{ statePath: string; diskPath: string }>): Promise<Template> {
    const key = TemplateStore.keyOf(identity);
    const dir = join(this.dir, key);
    const ready = { key, dir, statePath: join(dir, 'state.bin'), diskPath: join(dir, 'disk.qcow2') };
    if (await access(join(dir, 'ready')).then(() => true, () => false)) return ready;
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.build(dir, ready, build).finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private async build(dir: string, ready: Template, build: (dir: string) => Promise<{ statePath: string; diskPath: string }>): Promise<Template> {
    const staging = `${dir}.building-${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o755 });
    try {
      const built = await build(staging);
      await rename(built.statePath, join(staging, 'state.bin'));
      await rename(built.diskPath, join(staging, 'disk.qcow2'));
      // Read-only for everyone: every restored VM (each under its own jail uid) reads it.
      await chmod(join(staging, 'disk.qcow2'), 0o444);
      await chmod(join(staging, 'state.bin'), 0o400);
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
