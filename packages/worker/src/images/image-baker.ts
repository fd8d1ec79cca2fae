import { chmod, copyFile, mkdir, mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';
import { CommandError, runCommand } from '../host/run-command.js';

/** Where an image's root filesystem comes from. */
export type RootfsSource =
  | { kind: 'dir'; path: string }
  | { kind: 'tar'; path: string }
  /** An OCI image layout on disk (index.json + blobs/), unpacked with umoci. */
  | { kind: 'oci'; path: string; tag: string };

/** A baked image on disk. */
export interface BakedImage {
  name: string;
  /** The read-only ext4 base that every VM of this image overlays. */
  rootfsPath: string;
  sizeMib: number;
  /** The content size of the rootfs, for "too small" messages and the minimum disk. */
  contentMib: number;
}

/** Where the agent lives inside every image; the kernel runs it as init. */
export const AGENT_PATH_IN_GUEST = '/sbin/scaibunker-agent';

/**
 * Bakes a root filesystem into an ext4 image with `mkfs.ext4 -d`, with the guest agent
 * injected. The staging copy keeps the source untouched; the result appears atomically.
 */
export async function bakeImage(options: {
  name: string;
  source: RootfsSource;
  sizeMib: number;
  agentBinary: string;
  outDir: string;
}): Promise<BakedImage> {
  await mkdir(options.outDir, { recursive: true });
  const staging = await mkdtemp(join(options.outDir, `.bake-${options.name}-`));
  try {
    const root = join(staging, 'rootfs');
    await mkdir(root);
    await unpack(options.source, root, staging);
    await injectAgent(root, options.agentBinary);
    const contentMib = Math.ceil(Number((await runCommand('du', ['-sm', '--apparent-size', root])).stdout.split('\t')[0]));
    const image = join(staging, 'rootfs.ext4');
    try {
      // resize_inode lets the root grow online later to the bunker's disk_mb; the journal keeps
      // a bunker's filesystem consistent when its VM is killed.
      await runCommand('mkfs.ext4', ['-q', '-F', '-L', 'scaibunker-root', '-d', root, '-E', 'root_owner=0:0', '-O', 'has_journal,resize_inode', image, `${options.sizeMib}M`]);
    } catch (error) {
      if (error instanceof CommandError && /Could not allocate|No space left|too small|Filesystem larger/i.test(error.stderr)) {
        throw new ScaiError('IMAGE_BAKE_FAILED', `Image ${options.name}: size_mib ${options.sizeMib} is too small for ${contentMib} MiB of content; try at least ${Math.ceil(contentMib * 1.3) + 16}.`);
      }
      throw new ScaiError('IMAGE_BAKE_FAILED', `Image ${options.name}: mkfs.ext4 failed: ${(error as Error).message}`, { cause: error });
    }
    const finalPath = join(options.outDir, `${options.name}.ext4`);
    await chmod(image, 0o444);
    await rename(image, finalPath);
    return { name: options.name, rootfsPath: finalPath, sizeMib: options.sizeMib, contentMib };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function unpack(source: RootfsSource, root: string, staging: string): Promise<void> {
  switch (source.kind) {
    case 'dir':
      await runCommand('cp', ['-a', `${source.path}/.`, root]);
      return;
    case 'tar':
      await runCommand('tar', ['-x', '-f', source.path, '-C', root, '--numeric-owner']);
      return;
    case 'oci': {
      // umoci creates <bundle>/rootfs itself, but only under an existing bundle directory.
      const bundle = join(staging, 'bundle');
      await mkdir(bundle);
      await runCommand('umoci', ['raw', 'unpack', '--image', `${source.path}:${source.tag}`, join(bundle, 'rootfs')]);
      await rm(root, { recursive: true });
      await rename(join(bundle, 'rootfs'), root);
      return;
    }
  }
}

async function injectAgent(root: string, agentBinary: string): Promise<void> {
  const target = join(root, AGENT_PATH_IN_GUEST);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(agentBinary, target);
  await chmod(target, 0o755);
  // Mount points the agent expects when it runs as PID 1.
  for (const dir of ['proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'root']) await mkdir(join(root, dir), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  // Each bunker gets its own machine id at start (see the agent's identity op), written to
  // tmpfs: the ext4 write path is ~27 ms of a TCG restore's first work, and an id is per boot.
  await rm(join(root, 'etc/machine-id'), { force: true });
  await symlink('../run/machine-id', join(root, 'etc/machine-id'));
}
