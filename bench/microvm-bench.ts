/**
 * M2 microVM benchmarks: cold boot and template restore to agent-ready, agent round trip,
 * exec of `true`, host memory per idle VM and how many idle VMs fit, each beside the floor
 * measured in the same run (raw QEMU booting the same kernel and rootfs to a trivial init).
 *
 *   npm run bench:microvm            (BENCH_RUNS=20 by default)
 */
import { spawn } from 'node:child_process';
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_CACHE_DIR, VmRuntime, QemuDriver, hostTscKhz, detectCgroupManager, type RuntimeVm } from '@scaibunker/worker';
import { fmt, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const IDLE_VMS = Number(process.env.BENCH_IDLE_VMS ?? 150);
const IDLE_BUDGET_MS = 10 * 60_000;
const RESERVE_MIB = 2048;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-bench-'));
  const runtime = await VmRuntime.open({ dataDir, cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
  const out: string[] = [];
  const log = (line: string) => { out.push(line); console.log(line); };
  log(`# microVM benchmark — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; accelerator: ${runtime.accelerator.accelerator} (${runtime.accelerator.reason})`);

  // Floor: the same kernel and rootfs, straight to a trivial init that reboots at once.
  const floor = await rawQemuFloor(runtime, dataDir);
  log(`floor, raw QEMU spawn → trivial init done (exit): ${fmt(summarize(floor))}`);

  const boots: number[] = [];
  let bootFailures = 0;
  for (let i = 0; i < RUNS; i++) {
    const vm = await runtime.start({ image: 'minimal', memoryMb: 128, startFrom: 'boot' });
    boots.push(vm.readyMs);
    bootFailures += vm.failedAttempts;
    await vm.stop();
  }
  log(`cold boot → agent ready: ${fmt(summarize(boots))}; watchdog retries: ${bootFailures}/${RUNS}`);

  await runtime.start({ image: 'minimal', memoryMb: 128 }).then((vm) => vm.stop()); // builds the template
  const restores: number[] = [];
  const restoreTotal: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const vm = await runtime.start({ image: 'minimal', memoryMb: 128 });
    restoreTotal.push(performance.now() - started);
    restores.push(vm.readyMs);
    await vm.stop();
  }
  log(`restore → agent ready (VMM spawn + state load + HELLO): ${fmt(summarize(restores))}`);
  log(`restore → ready for use (+ overlay disk, thaw, identity): ${fmt(summarize(restoreTotal))}`);

  const vm = await runtime.start({ image: 'minimal', memoryMb: 128 });
  const pings: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await vm.agent.ping();
    pings.push(performance.now() - t);
  }
  log(`agent round trip (ping): ${fmt(summarize(pings), 'ms', 3)}`);
  const execs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const proc = vm.agent.exec({ argv: ['/bin/true'] }); // the path, as the in-guest loop below runs it: no PATH search
    proc.stdout.resume();
    proc.stderr.resume();
    await proc.result;
    execs.push(performance.now() - t);
  }
  log(`exec of \`/bin/true\` (round trip): ${fmt(summarize(execs), 'ms', 2)}`);
  // The guest's own fork+exec of `/bin/true`, timed inside the guest, is the floor of an exec:
  // a shell loop running it 200 times, less the same loop running the `:` builtin.
  const timeLoop = async (command: string): Promise<number> => {
    const loop = vm.agent.exec({ argv: ['time', 'sh', '-c', `i=0; while [ "$i" -lt 200 ]; do ${command}; i=$((i+1)); done`] });
    let stderr = '';
    loop.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    loop.stdout.resume();
    await loop.result;
    const [, minutes = '0', seconds = 'NaN'] = /real\s+(\d+)m\s*([\d.]+)s/.exec(stderr) ?? [];
    return (Number(minutes) * 60 + Number(seconds)) * 1000;
  };
  const guestSpawnMs = ((await timeLoop('/bin/true')) - (await timeLoop(':'))) / 200;
  log(`guest's own fork+exec+wait of \`/bin/true\` (in-guest shell loop of 200, less the loop itself): ${guestSpawnMs.toFixed(2)} ms → agent + channel overhead per exec ≈ ${(summarize(execs).p50 - guestSpawnMs).toFixed(2)} ms`);
  await vm.stop();

  // Idle VMs, booted for real (not extrapolated): restored one after another until IDLE_VMS run,
  // the host's available memory falls under a reserve, or the time budget is spent.
  const idle: RuntimeVm[] = [];
  const availableBefore = memAvailableMib();
  const deadline = Date.now() + IDLE_BUDGET_MS;
  let stoppedBy = `the target of ${IDLE_VMS}`;
  while (idle.length < IDLE_VMS) {
    if (memAvailableMib() < RESERVE_MIB) { stoppedBy = `the ${RESERVE_MIB} MiB memory reserve`; break; }
    if (Date.now() > deadline) { stoppedBy = `the ${IDLE_BUDGET_MS / 1000} s time budget`; break; }
    idle.push(await runtime.start({ image: 'minimal', memoryMb: 128 }));
  }
  await new Promise((r) => setTimeout(r, 5000));
  const usedMib = availableBefore - memAvailableMib();
  const rss = await Promise.all(idle.map((v) => v.vm.rssKib()));
  const pss = idle.map((v) => pssKib(v.vm.pid));
  log(`idle restored 128-MiB VMs running at once: ${idle.length} (stopped by ${stoppedBy})`);
  log(`host memory per idle VM: ${(usedMib / idle.length).toFixed(1)} MiB (drop of MemAvailable / VMs); RSS ${fmt(summarize(rss.map((k) => k / 1024)), 'MiB')}; PSS ${fmt(summarize(pss.map((k) => k / 1024)), 'MiB')}`);
  const cpu = await hostCpuBusy(5000);
  log(`host CPU busy with ${idle.length} idle VMs: ${(cpu * 100).toFixed(0)}% of ${cpus().length} cores; each VM still answers: ${(await Promise.all(idle.map((v) => v.agent.ping().then(() => 1, () => 0)))).reduce((a: number, b: number) => a + b, 0)}/${idle.length}`);
  const fit = Math.floor(idle.length + (memAvailableMib() - RESERVE_MIB) / (usedMib / idle.length));
  log(`idle 128-MiB VMs that fit in this machine's memory (measured ${idle.length}, the rest at the measured cost per VM): ~${fit}`);
  for (const vm of idle) await vm.stop();
}

function memAvailableMib(): number {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
}

function pssKib(pid: number): number {
  return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
}

/** The share of all cores busy over a window, from /proc/stat. */
async function hostCpuBusy(windowMs: number): Promise<number> {
  const sample = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idleTicks = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { idle: idleTicks, total: fields.reduce((a, b) => a + b, 0) };
  };
  const a = sample();
  await new Promise((r) => setTimeout(r, windowMs));
  const b = sample();
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** Spawn → exit of raw QEMU booting the same kernel and rootfs into `busybox reboot -f`. */
async function rawQemuFloor(runtime: VmRuntime, dataDir: string): Promise<number[]> {
  const image = await runtime.images.get('minimal');
  // Only the driver's command line is used: the floor runs QEMU bare, without jail or cgroup.
  const driver = new QemuDriver({
    qemuBinary: 'qemu-system-x86_64', jail: { jailerPath: runtime.assets.jailerPath, rootDir: dataDir },
    accelerator: runtime.accelerator.accelerator, tscKhz: await hostTscKhz(), cgroups: await detectCgroupManager(),
  });
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const workDir = join(dataDir, `floor-${i}`);
    mkdirSync(workDir);
    const argv = driver.argv({
      id: `floor-${i}`, workDir, kernelPath: runtime.assets.kernelPath, diskPath: image.rootfsPath, diskFormat: 'raw', sharedFiles: [],
      memoryMb: 128, vcpus: 1, cpuMillicores: 1000, hostname: 'floor', jailUid: 0,
    }, ['-snapshot']).map((arg) => arg.replace('init=/sbin/scaibunker-agent', 'init=/bin/busybox').replace(/scaibunker\.hostname=\S+/, 'scaibunker.hostname=floor -- reboot -f'));
    const started = performance.now();
    await new Promise<void>((resolveExit, reject) => {
      const child = spawn('qemu-system-x86_64', argv, { stdio: 'ignore' });
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('floor boot hung')); }, 30_000);
      child.once('exit', () => { clearTimeout(timer); resolveExit(); });
    });
    samples.push(performance.now() - started);
  }
  return samples;
}

await main();
