import { runCommand } from '../host/run-command.js';

/**
 * Creates a VM's private copy-on-write disk: a qcow2 overlay (~10 ms, a few hundred KiB) over
 * a read-only backing file (an image's ext4 base, or a template's frozen overlay), with a
 * virtual size of `sizeMb`. Writes land in the overlay; the backing is shared and never touched.
 */
export async function createOverlayDisk(backingPath: string, backingFormat: 'raw' | 'qcow2', overlayPath: string, sizeMb: number): Promise<void> {
  await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', backingFormat, '-b', backingPath, '-o', 'lazy_refcounts=on,cluster_size=65536', overlayPath, `${sizeMb}M`]);
}
