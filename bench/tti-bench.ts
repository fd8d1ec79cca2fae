/**
 * M3 time-to-interactive, as ComputeSDK measures it: create a sandbox → first successful
 * `echo`, through the real API (controller + worker over their link, real microVMs). 100 runs
 * each sequential, staggered (200 ms apart) and burst (all at once), with and without a warm
 * pool; beside peers measured in the same run: gVisor (`runsc do echo`) and the M2 floor (the
 * runtime's own restore + exec, no API). Plus the exec round trip through the API.
 *
 *   npm run bench:tti            (BENCH_RUNS=100 by default; BENCH_MODES=seq runs only the
 *                                 modes whose names start so)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, startServer } from '@scaibunker/controller';
import { DEFAULT_CACHE_DIR, VmRuntime, WorkerDaemon, runAs, standbyVmmsFromEnv } from '@scaibunker/worker';
import { moduleApi } from './module-api.js';
import { fmt, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
// A pool as large as a mode's runs, so every create of a mode can be served from it (filled
// before each mode); smaller pools drain under a tight loop and the rest restore from templates.
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? RUNS);
const SHAPE = { image: 'minimal', memory_mb: 128, cpu_millicores: 1000, disk_mb: 1024 };
const run = promisify(execFile);
const quiet = { info: () => undefined, warn: () => undefined };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-tti-'));
  const server = await startServer({ ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent' }) });
  const key = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  const runtime = await VmRuntime.open({ dataDir: join(dataDir, 'worker'), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL, standbyVmms: standbyVmmsFromEnv(process.env.SCAIBUNKER_STANDBY_VMMS) });
  const token = await server.localWorkerToken();
  const api = moduleApi(server.url, key);
  const log = (line: string) => console.log(line);
  log(`# time-to-interactive benchmark — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; accelerator: ${runtime.accelerator.accelerator}; vmm: ${runtime.vmm}; standby VMMs per shape: ${runtime.options.standbyVmms ?? 0}; ${RUNS} runs per mode; bunker ${JSON.stringify(SHAPE)}`);

  /** One create → first successful echo; the bunker is then deleted, outside the timing, as a user would. */
  const tti = async (): Promise<{ ms: number; ok: boolean; error?: string }> => {
    const started = performance.now();
    const created = await api('POST', '/bunkers', SHAPE);
    if (created.status !== 'ok') return { ms: performance.now() - started, ok: false, error: created.error?.code ?? 'unknown' };
    const echoed = await api('POST', `/bunkers/${created.data.id}/exec`, { command: ['echo', 'ok'] });
    const result = { ms: performance.now() - started, ok: echoed.status === 'ok' && echoed.data.stdout === 'ok\n', error: echoed.error?.code };
    await api('DELETE', `/bunkers/${created.data.id}`);
    return result;
  };
  const modes: Record<string, () => Promise<{ ms: number; ok: boolean; error?: string | undefined }[]>> = {
    sequential: async () => {
      const out = [];
      for (let i = 0; i < RUNS; i++) out.push(await tti());
      return out;
    },
    'staggered 200 ms': () => Promise.all(Array.from({ length: RUNS }, (_, i) => new Promise<void>((r) => setTimeout(r, i * 200)).then(tti))),
    burst: () => Promise.all(Array.from({ length: RUNS }, () => tti())),
  };

  for (const pooled of [false, true]) {
    // The bench lets the worker over-commit CPU and disk (the API refuses more than a worker
    // offers: 2 cores hold 2 bunkers of 1000 millicores, and a burst of 100 thin 1 GiB disks
    // exceeds the free disk): what is measured is start-up, not placement.
    const daemon = new WorkerDaemon({
      controllerUrl: server.url, token, runtime, version: 'bench', log: quiet, cpuMillicores: 1_000_000, diskMb: 1_000_000,
      ...(pooled ? { warmPool: [{ image: SHAPE.image, size: POOL_SIZE, memoryMb: SHAPE.memory_mb, cpuMillicores: SHAPE.cpu_millicores, diskMb: SHAPE.disk_mb }] } : {}),
    });
    await daemon.start();
    // Untimed: the shape's template is built by the first create (~1 s), and TTI is measured
    // from a template that exists, as a worker that has served its image once has it.
    const first = await api('POST', '/bunkers', SHAPE);
    await api('DELETE', `/bunkers/${first.data.id}`);
    for (const [mode, measure] of Object.entries(modes).filter(([m]) => !process.env.BENCH_MODES || m.startsWith(process.env.BENCH_MODES))) {
      if (daemon.pool) {
        await daemon.pool.fill();
        await waitFor(() => Object.values(daemon.pool!.sizes()).every((n) => n >= POOL_SIZE));
      }
      const hitsBefore = daemon.pool?.stats.hits ?? 0;
      const filled = daemon.pool?.sizes();
      const results = await measure();
      const ok = results.filter((r) => r.ok);
      const errors = [...new Set(results.filter((r) => !r.ok).map((r) => r.error))].join(', ');
      const pool = daemon.pool ? `, warm pool of ${POOL_SIZE} (${JSON.stringify(filled)} idle at the start, refill failures so far ${daemon.pool.stats.refillFailures}): ${daemon.pool.stats.hits - hitsBefore} claims` : ', no warm pool';
      log(`TTI ${mode}${pool}: ${fmt(summarize(ok.map((r) => r.ms)))}, p99 ${summarize(ok.map((r) => r.ms)).p99.toFixed(0)} ms; success ${ok.length}/${results.length}${errors ? ` (failures: ${errors})` : ''}`);
    }
    await daemon.stop();
  }

  // Peers, in the same run.
  const gvisor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const { stdout } = await run('runsc', ['--network=none', 'do', 'echo', 'ok']).catch(() => ({ stdout: '' }));
    if (stdout === 'ok\n') gvisor.push(performance.now() - started);
  }
  log(`peer gVisor \`runsc --network=none do echo ok\` (Debian's runsc): ${gvisor.length ? fmt(summarize(gvisor)) : 'not available'}; success ${gvisor.length}/${RUNS}`);
  // The floor: the runtime's own start of the same shape and a first `echo` as bunker
  // commands run (the image's account), with no API, database or link in between.
  const exec = async (vm: Awaited<ReturnType<VmRuntime['start']>>, argv: string[]) => {
    const proc = vm.agent.exec({ argv, ...runAs(undefined) });
    proc.stdout.resume();
    proc.stderr.resume();
    await proc.result;
  };
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const vm = await runtime.start({ image: SHAPE.image, memoryMb: SHAPE.memory_mb, diskMb: SHAPE.disk_mb, cpuMillicores: SHAPE.cpu_millicores });
    await exec(vm, ['echo', 'ok']);
    floor.push(performance.now() - started);
    await vm.stop();
  }
  log(`floor, M2 runtime restore + exec of echo (no API, no link): ${fmt(summarize(floor))}`);

  const direct = await runtime.start({ image: SHAPE.image, memoryMb: SHAPE.memory_mb });
  await exec(direct, ['true']);
  const agentExecs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await exec(direct, ['true']);
    agentExecs.push(performance.now() - started);
  }
  await direct.stop();
  log(`exec of \`true\` through the agent alone (worker → agent and back): ${fmt(summarize(agentExecs), 'ms', 2)}`);

  const daemon = new WorkerDaemon({ controllerUrl: server.url, token, runtime, version: 'bench', log: quiet });
  await daemon.start();
  const bunker = await api('POST', '/bunkers', SHAPE);
  const execs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await api('POST', `/bunkers/${bunker.data.id}/exec`, { command: ['true'] });
    execs.push(performance.now() - started);
  }
  log(`exec of \`true\` through the API (HTTP → controller → link → worker → agent and back): ${fmt(summarize(execs), 'ms', 2)}`);
  await api('DELETE', `/bunkers/${bunker.data.id}`);
  await daemon.stop();
  await runtime.close();
  await server.close();
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
}

await main();
