import { runCommand } from '../host/run-command.js';

/**
 * Creates a VM's private copy-on-write disk: a qcow2 overlay over the image's read-only ext4
 * base (~10 ms, a few hundred KiB), with a virtual size of `sizeMb`. Writes land in the
 * overlay; the base is never touched and is shared by every VM of the image.
 */
export async function createOverlayDisk(basePath: string, overlayPath: string, sizeMb: number): Promise<void> {
  await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', basePath, '-o', 'lazy_refcounts=on,cluster_size=65536', overlayPath, `${sizeMb}M`]);
}
