import { resolve } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';
import type { Command, CommandContext } from './platform.js';
import { printRecord } from '../output.js';

/** Opens the local microVM runtime (loaded lazily: client commands never pay for it). */
async function openRuntime() {
  const { VmRuntime, DEFAULT_CACHE_DIR, kernelFlavourFromEnv, diskModeFromEnv } = await import('@scaibunker/worker');
  return VmRuntime.open({
    dataDir: resolve(process.env.SCAIBUNKER_DATA_DIR ?? '.data'),
    cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR),
    acceleratorOverride: process.env.SCAIBUNKER_ACCEL,
    kernel: kernelFlavourFromEnv(process.env.SCAIBUNKER_GUEST_KERNEL),
    diskMode: diskModeFromEnv(process.env.SCAIBUNKER_DISK_MODE),
  });
}

function positiveInt(ctx: CommandContext, name: string): number | undefined {
  const raw = ctx.flags[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new ScaiError('VALIDATION_ERROR', `--${name} must be a positive integer.`);
  return value;
}

/** `scaibunker vm run`: boot a VM, run one command in it, print its output, exit with its code, remove the VM. */
export const VM_COMMANDS: Record<string, Command> = {
  'vm run': {
    usage: 'vm run --image NAME [--memory MB] [--cpus N] [--disk MB] [--timeout S] -- COMMAND [ARGS…]',
    flags: { image: { type: 'string' }, memory: { type: 'string' }, cpus: { type: 'string' }, disk: { type: 'string' }, timeout: { type: 'string' } },
    run: async (ctx) => {
      if (ctx.args.length === 0) throw new ScaiError('VALIDATION_ERROR', 'Give the command to run after --, e.g. `vm run --image minimal -- uname -a`.');
      const runtime = await openRuntime();
      const timeoutS = positiveInt(ctx, 'timeout');
      const memoryMb = positiveInt(ctx, 'memory');
      const vcpus = positiveInt(ctx, 'cpus');
      const diskMb = positiveInt(ctx, 'disk');
      const vm = await runtime.start({
        image: typeof ctx.flags.image === 'string' ? ctx.flags.image : 'minimal',
        ...(memoryMb ? { memoryMb } : {}), ...(vcpus ? { vcpus } : {}), ...(diskMb ? { diskMb } : {}),
      });
      try {
        const forwardStdin = !process.stdin.isTTY;
        const proc = vm.agent.exec({ argv: ctx.args, stdin: forwardStdin, ...(timeoutS ? { timeoutMs: timeoutS * 1000 } : {}) });
        proc.stdout.pipe(process.stdout, { end: false });
        proc.stderr.pipe(process.stderr, { end: false });
        if (forwardStdin) {
          void (async () => {
            for await (const chunk of process.stdin) await proc.write(chunk as Buffer);
            proc.closeStdin();
          })().catch(() => undefined);
        }
        const [result] = await Promise.all([proc.result, finished(proc.stdout), finished(proc.stderr)]);
        process.stdin.destroy();
        if (result.timedOut) process.stderr.write(`scaibunker: timed out after ${timeoutS} s\n`);
        process.exitCode = result.timedOut ? 124 : result.signal ? 128 + result.signal : result.exitCode;
      } finally {
        await vm.stop();
      }
    },
  },
  'vm prepare': {
    usage: 'vm prepare   (builds what is missing: guest kernel, agent, built-in images; probes the accelerator)',
    run: async (ctx) => {
      const runtime = await openRuntime();
      await runtime.ensureBuiltinImages();
      const images = await runtime.images.list();
      printRecord({
        accelerator: `${runtime.accelerator.accelerator} (${runtime.accelerator.reason})`,
        vmm: runtime.vmm === 'firecracker'
          ? 'firecracker (its binary is installed and KVM works; untested by this project’s CI, which has neither)'
          : 'qemu -M microvm',
        kernel: `${runtime.assets.kernelPath} (${runtime.assets.kernelFlavour})`,
        disks: runtime.options.diskMode === 'copy' ? 'private raw copies' : 'qcow2 overlays over shared bases',
        agent: runtime.assets.agentPath,
        images: images.map((i) => i.name),
      }, ctx.json);
    },
  },
  'image bake': {
    usage: 'image bake NAME (--dir PATH | --tar PATH | --oci LAYOUT:TAG) --size-mib N',
    flags: { dir: { type: 'string' }, tar: { type: 'string' }, oci: { type: 'string' }, 'size-mib': { type: 'string' } },
    run: async (ctx) => {
      const name = ctx.args[0];
      if (!name) throw new ScaiError('VALIDATION_ERROR', 'Missing <name>.');
      const sizeMib = positiveInt(ctx, 'size-mib');
      if (!sizeMib) throw new ScaiError('VALIDATION_ERROR', '--size-mib is required.');
      const { dir, tar, oci } = ctx.flags;
      const sources = [dir, tar, oci].filter((s) => typeof s === 'string');
      if (sources.length !== 1) throw new ScaiError('VALIDATION_ERROR', 'Give exactly one of --dir, --tar or --oci.');
      const [layout, tag] = typeof oci === 'string' ? [oci.slice(0, oci.lastIndexOf(':')), oci.slice(oci.lastIndexOf(':') + 1)] : [];
      const source = typeof dir === 'string' ? { kind: 'dir' as const, path: resolve(dir) }
        : typeof tar === 'string' ? { kind: 'tar' as const, path: resolve(tar) }
        : { kind: 'oci' as const, path: resolve(layout!), tag: tag! };
      const runtime = await openRuntime();
      printRecord({ ...(await runtime.images.bake(name, source, sizeMib)) }, ctx.json);
    },
  },
};

function finished(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolvePromise) => {
    stream.once('end', resolvePromise);
    stream.once('close', resolvePromise);
    stream.once('error', () => resolvePromise());
  });
}
