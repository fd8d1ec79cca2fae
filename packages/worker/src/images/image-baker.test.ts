import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../host/run-command.js';
import { collect, testRuntime } from '../testing/test-runtime.js';
import type { VmRuntime } from '../runtime/vm-runtime.js';

describe('image baking', () => {
  let runtime: VmRuntime;
  let work: string;
  beforeAll(async () => {
    runtime = await testRuntime();
    work = mkdtempSync(join(tmpdir(), 'scaibunker-bake-'));
  }, 120_000);
  afterAll(async () => { await runCommand('rm', ['-rf', work]); });

  async function run(image: string, argv: string[]) {
    const vm = await runtime.start({ image, memoryMb: 256, startFrom: 'boot' });
    try {
      const proc = vm.agent.exec({ argv });
      const [out, err, result] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
      return { stdout: out.toString(), stderr: err.toString(), exitCode: result.exitCode };
    } finally {
      await vm.stop();
    }
  }

  it('bakes a tar source with the agent injected, and boots it', async () => {
    const root = join(work, 'tar-root');
    await runCommand('cp', ['-a', '/bin/busybox', join(work, 'busybox')]);
    mkdirSync(join(root, 'bin'), { recursive: true });
    await runCommand('cp', ['/bin/busybox', join(root, 'bin/busybox')]);
    for (const applet of ['sh', 'cat', 'echo']) await runCommand('ln', ['-s', 'busybox', join(root, 'bin', applet)]);
    writeFileSync(join(root, 'hello.txt'), 'from a tarball\n');
    await runCommand('tar', ['-C', root, '-cf', join(work, 'rootfs.tar'), '.']);
    const baked = await runtime.images.bake('from-tar', { kind: 'tar', path: join(work, 'rootfs.tar') }, 32);
    expect(baked.rootfsPath).toMatch(/from-tar\.ext4$/);
    expect((await run('from-tar', ['cat', '/hello.txt'])).stdout).toBe('from a tarball\n');
  }, 120_000);

  it('bakes an OCI image layout from disk (umoci), and boots it', async () => {
    const layout = join(work, 'oci-layout');
    const bundle = join(work, 'oci-bundle');
    await runCommand('umoci', ['init', '--layout', layout]);
    await runCommand('umoci', ['new', '--image', `${layout}:v1`]);
    await runCommand('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    mkdirSync(join(bundle, 'rootfs/bin'), { recursive: true });
    await runCommand('cp', ['/bin/busybox', join(bundle, 'rootfs/bin/busybox')]);
    for (const applet of ['sh', 'cat']) await runCommand('ln', ['-s', 'busybox', join(bundle, 'rootfs/bin', applet)]);
    writeFileSync(join(bundle, 'rootfs/oci.txt'), 'from an OCI layout\n');
    await runCommand('umoci', ['repack', '--image', `${layout}:v1`, bundle]);
    await runtime.images.bake('from-oci', { kind: 'oci', path: layout, tag: 'v1' }, 32);
    expect((await run('from-oci', ['cat', '/oci.txt'])).stdout).toBe('from an OCI layout\n');
  }, 120_000);

  it('refuses a size_mib too small for the content with IMAGE_BAKE_FAILED naming a size that fits', async () => {
    const root = join(work, 'big-root');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'blob'), Buffer.alloc(20 * 1024 * 1024, 1));
    await expect(runtime.images.bake('too-small', { kind: 'dir', path: root }, 8)).rejects.toMatchObject({
      code: 'IMAGE_BAKE_FAILED', message: expect.stringMatching(/too small .* try at least \d+/),
    });
  });

  it('runs Python in the built-in debian-python image', async () => {
    await runtime.ensureBuiltinImages();
    const result = await run('debian-python', ['python3', '-c', 'import sys; print(sys.version_info[:2], 6 * 7)']);
    expect(result.stdout).toBe('(3, 11) 42\n');
  }, 300_000);
});
