import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../host/run-command.js';

/**
 * Creates VMs' private copy-on-write disks: qcow2 overlays (a few hundred KiB) over a
 * read-only backing file (an image's ext4 base, or a template's frozen overlay), with a
 * virtual size of `sizeMb`. Writes land in the overlay; the backing is shared and never touched.
 *
 * A blank overlay depends only on the backing's path and format and the size, so `qemu-img
 * create` (a ~10 ms process spawn on every VM start) runs once per combination; each VM then
 * gets a copy of that blank (well under a millisecond, a reflink where the filesystem can).
 */
export class OverlayDisks {
  constructor(private readonly blanksDir: string) {}

  async create(backingPath: string, backingFormat: 'raw' | 'qcow2', overlayPath: string, sizeMb: number): Promise<void> {
    const blank = await this.blank(backingPath, backingFormat, sizeMb);
    await copyFile(blank, overlayPath, constants.COPYFILE_FICLONE | constants.COPYFILE_EXCL);
  }

  /** Forgets the blanks over a backing file that is gone or replaced (a re-baked image, a pruned template). */
  async forget(): Promise<void> {
    await rm(this.blanksDir, { recursive: true, force: true });
  }

  private async blank(backingPath: string, backingFormat: 'raw' | 'qcow2', sizeMb: number): Promise<string> {
    const key = createHash('sha256').update(JSON.stringify([backingPath, backingFormat, sizeMb])).digest('hex').slice(0, 32);
    const path = join(this.blanksDir, `${key}.qcow2`);
    if (await stat(path).then(() => true, () => false)) return path;
    await mkdir(this.blanksDir, { recursive: true, mode: 0o700 });
    // Built aside and renamed into place: two VMs starting at once never copy a half-written blank.
    const partial = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backingPath, '-o', 'lazy_refcounts=on,cluster_size=65536', partial, `${sizeMb}M`]);
    await rename(partial, path);
    return path;
  }
}

/**
 * A VM's private full copy of a raw disk, for drivers that cannot open qcow2 (Firecracker) or
 * hosts that prefer it (`SCAIBUNKER_DISK_MODE=copy`): sparse, and a reflink (instant, shared
 * until written) where the filesystem can, then grown to `sizeMb`.
 */
export async function copyDisk(backingPath: string, copyPath: string, sizeMb: number): Promise<void> {
  await runCommand('cp', ['--sparse=always', '--reflink=auto', backingPath, copyPath]);
  // cp keeps the source's (read-only) mode: the copy is the VM's own, to write.
  await chmod(copyPath, 0o600);
  const { size } = await stat(copyPath);
  if (size < sizeMb * 1024 * 1024) await truncate(copyPath, sizeMb * 1024 * 1024);
}
