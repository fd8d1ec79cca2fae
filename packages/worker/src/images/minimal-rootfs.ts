import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../host/run-command.js';

/** Debian's busybox-static: one static binary that provides the whole minimal userland. */
export const BUSYBOX_STATIC = '/bin/busybox';

/**
 * Lays out the `minimal` image's root filesystem: busybox with a link per applet and the
 * few files a shell user expects. (The catalogue's `minimal` is Alpine; with no registry
 * reachable here it is built from Debian's busybox-static instead.)
 */
export async function writeMinimalRootfs(root: string, busybox = BUSYBOX_STATIC): Promise<void> {
  for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home/user', 'tmp', 'var/tmp', 'proc', 'sys', 'dev', 'run']) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await runCommand('cp', [busybox, join(root, 'bin/busybox')]);
  await chmod(join(root, 'bin/busybox'), 0o755);
  const applets = (await runCommand(busybox, ['--list-full'])).stdout.split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'bin/busybox') continue;
    const depth = applet.split('/').length - 1;
    await symlink(`${'../'.repeat(depth)}bin/busybox`, join(root, applet)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n');
  await writeFile(join(root, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  await writeFile(join(root, 'etc/os-release'), 'NAME="ScaiBunker minimal"\nID=scaibunker-minimal\nPRETTY_NAME="ScaiBunker minimal (busybox)"\n');
  await chown(join(root, 'home/user'), 1000, 1000);
  await chmod(join(root, 'tmp'), 0o1777);
}
