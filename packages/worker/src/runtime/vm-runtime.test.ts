import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, testRuntime } from '../testing/test-runtime.js';
import type { RuntimeVm } from './vm-runtime.js';

/** Everything here runs in a real QEMU microVM (TCG on these machines). */
describe('a real microVM', () => {
  let vm: RuntimeVm;

  beforeAll(async () => {
    const runtime = await testRuntime();
    vm = await runtime.start({ image: 'minimal', memoryMb: 256, diskMb: 512 });
  }, 120_000);
  afterAll(async () => { await vm?.stop(); });

  async function run(argv: string[], options: { stdin?: Buffer; timeoutMs?: number } = {}) {
    const proc = vm.agent.exec({ argv, stdin: options.stdin !== undefined, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    if (options.stdin) void proc.write(options.stdin).then(() => proc.closeStdin());
    const [stdout, stderr, result] = await Promise.all([collect(proc.stdout), collect(proc.stderr), proc.result]);
    return { stdout: stdout.toString(), stderr: stderr.toString(), ...result };
  }

  it('runs a command and reports stdout, stderr and the exit code', async () => {
    expect(await run(['sh', '-c', 'echo hi; echo err >&2; exit 3'])).toEqual({ stdout: 'hi\n', stderr: 'err\n', exitCode: 3, signal: 0, timedOut: false });
  });

  it('feeds stdin through a process byte for byte', async () => {
    const input = randomBytes(3 * 1024 * 1024);
    const proc = vm.agent.exec({ argv: ['cat'], stdin: true });
    void proc.write(input).then(() => proc.closeStdin());
    const [out] = await Promise.all([collect(proc.stdout), proc.result]);
    expect(out.equals(input)).toBe(true);
  });

  it('streams 100 MiB of output with flat host memory', async () => {
    const proc = vm.agent.exec({ argv: ['head', '-c', String(100 * 1024 * 1024), '/dev/zero'] });
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    let bytes = 0;
    for await (const chunk of proc.stdout) {
      bytes += (chunk as Buffer).length;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    expect((await proc.result).exitCode).toBe(0);
    expect(bytes).toBe(100 * 1024 * 1024);
    // The credit window (256 KiB) bounds what is in flight; 64 MiB leaves room for GC noise.
    expect(peakRss - startRss).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('moves a 256 MiB file in and out byte for byte', async () => {
    const size = 256 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const upload = Readable.from((function* () { for (let i = 0; i < size / chunk.length; i++) yield chunk; })());
    const expected = createHash('sha256');
    for (let i = 0; i < size / chunk.length; i++) expected.update(chunk);
    expect((await vm.agent.writeFile('/root/big.bin', upload)).size).toBe(size);
    const download = await vm.agent.readFile('/root/big.bin');
    expect(download.size).toBe(size);
    const actual = createHash('sha256');
    for await (const part of download.content) actual.update(part as Buffer);
    await download.done;
    expect(actual.digest('hex')).toBe(expected.digest('hex'));
    await vm.agent.remove('/root/big.bin');
  }, 300_000);

  it('keeps a download going behind a slow, pausing consumer (pipe backpressure)', async () => {
    await vm.agent.writeFile('/tmp/slow.bin', Buffer.alloc(4 * 1024 * 1024, 7));
    const download = await vm.agent.readFile('/tmp/slow.bin');
    let received = 0;
    // A writable that fills and drains slowly makes pipe() pause and resume the download:
    // credit must still flow back to the agent (a grant made only in _read once stalled here).
    await pipeline(download.content, new Writable({
      highWaterMark: 128 * 1024,
      write(chunk: Buffer, _encoding, done) { received += chunk.length; setTimeout(done, 1); },
    }));
    expect(received).toBe(4 * 1024 * 1024);
  }, 60_000);

  it('kills the whole process tree when a timeout expires', async () => {
    const result = await run(['sh', '-c', 'sleep 100 & sleep 100'], { timeoutMs: 1000 });
    expect(result.timedOut).toBe(true);
    const ps = await run(['sh', '-c', 'ps -o comm | grep -c "^sleep" || true']);
    expect(ps.stdout.trim()).toBe('0');
  });

  it('reports a full disk as GUEST_DISK_FULL and keeps working', async () => {
    const fill = await run(['sh', '-c', 'dd if=/dev/zero of=/root/fill bs=1M count=2048 2>&1; echo rc=$?']);
    expect(fill.stdout).toMatch(/No space left on device/);
    await expect(vm.agent.writeFile('/root/more.bin', randomBytes(4 * 1024 * 1024))).rejects.toMatchObject({ code: 'GUEST_DISK_FULL' });
    await vm.agent.remove('/root/fill');
    expect((await run(['echo', 'still here'])).stdout).toBe('still here\n');
  }, 120_000);

  it('holds a process to the guest memory size', async () => {
    const result = await run(['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=1024M count=1']);
    expect(result.exitCode !== 0 || result.signal !== 0).toBe(true);
    expect((await run(['echo', 'alive'])).stdout).toBe('alive\n');
  });

  it('runs a shell on a PTY and follows a resize', async () => {
    const proc = vm.agent.exec({ argv: ['sh'], stdin: true, pty: { cols: 80, rows: 24 } });
    let screen = '';
    proc.stdout.on('data', (chunk: Buffer) => { screen += chunk.toString(); });
    await proc.write('stty size\n');
    await waitFor(() => /24 80/.test(screen));
    proc.resize(100, 40);
    await proc.write('stty size; exit 7\n');
    await waitFor(() => /40 100/.test(screen));
    expect((await proc.result).exitCode).toBe(7);
  });

  it('answers COMMAND_NOT_FOUND for a missing binary', async () => {
    await expect(vm.agent.exec({ argv: ['/no/such/binary'] }).result).rejects.toMatchObject({ code: 'COMMAND_NOT_FOUND' });
  });

  it('stats, lists, creates, renames and removes files', async () => {
    await vm.agent.mkdir('/root/a/b', { parents: true });
    await vm.agent.writeFile('/root/a/b/f.txt', Buffer.from('content'), { mode: 0o600 });
    expect(await vm.agent.stat('/root/a/b/f.txt')).toMatchObject({ type: 'file', size: 7, mode: expect.any(Number) });
    expect(((await vm.agent.stat('/root/a/b/f.txt')).mode & 0o777)).toBe(0o600);
    await vm.agent.rename('/root/a/b/f.txt', '/root/a/g.txt');
    expect((await vm.agent.list('/root/a')).entries.map((e) => [e.name, e.type])).toEqual([['b', 'dir'], ['g.txt', 'file']]);
    await vm.agent.remove('/root/a', { recursive: true });
    await expect(vm.agent.stat('/root/a')).rejects.toMatchObject({ code: 'GUEST_PATH_NOT_FOUND' });
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
