import { constants } from 'node:fs';
import { chmod, copyFile, open, type FileHandle } from 'node:fs/promises';
import { ScaiError } from '@scaibunker/contracts';

// What a jailed VMM leaves in its work directory is read by root: never by a name the jail chose.

/**
 * Opens a file in a work directory the jail owns: O_NOFOLLOW and O_NONBLOCK, because the jail
 * could have left a symlink (to a host file) or a FIFO (to hang us) under the expected name.
 */
export async function openJailFile(path: string, flags: number): Promise<FileHandle> {
  const handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  throw new ScaiError('INTERNAL', `${path} is not a regular file.`);
}

/** Copies a file the jail wrote into a new read-only file of ours. */
export async function copyOutOfJail(from: string, to: string): Promise<void> {
  const source = await openJailFile(from, constants.O_RDONLY);
  try {
    // Through the descriptor checked above, not the name (which the jail can swap). FICLONE:
    // a reflink where the filesystem has them, an ordinary copy where not.
    await copyFile(`/proc/self/fd/${source.fd}`, to, constants.COPYFILE_FICLONE);
  } finally {
    await source.close();
  }
  // Readable by every jail uid that restores it; written by nobody while VMs map it.
  await chmod(to, 0o444);
}
