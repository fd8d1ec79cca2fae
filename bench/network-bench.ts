/**
 * M5: what a bunker's network costs. The worker's own work per networked bunker (namespace,
 * veth, tap, ruleset, resolver policy; and its removal), and the time to interactive (create
 * → first `echo` through the API, real microVMs) per network profile, against isolated. The
 * worker's uplink is a namespace this bench makes (nothing leaves the machine).
 *
 *   npm run bench:network        (BENCH_RUNS=30 by default)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, startServer } from '@scaibunker/controller';
import { addNetns, BunkerNetworks, DEFAULT_CACHE_DIR, deleteNetns, VmRuntime, WorkerDaemon } from '@scaibunker/worker';
import { moduleApi } from './module-api.js';
import { fmt, summarize } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const SHAPE = { image: 'minimal', memory_mb: 128, cpu_millicores: 1000, disk_mb: 1024 };
const quiet = { info: () => undefined, warn: () => undefined };

async function main(): Promise<void> {
  const uplink = `sbbench-up-${randomBytes(3).toString('hex')}`;
  await addNetns(uplink);
  const dataDir = mkdtempSync(join(tmpdir(), 'scaibunker-netbench-'));
  const server = await startServer({ ...loadConfig({ SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIBUNKER_LOG_LEVEL: 'silent' }) });
  const key = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  const runtime = await VmRuntime.open({ dataDir: join(dataDir, 'worker'), cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL });
  // No resolver is reachable from this uplink: the bench resolves no names.
  const networks = await BunkerNetworks.open({ stateDir: join(dataDir, 'worker', 'network'), uplinkNetns: uplink, dnsUpstream: { address: '192.0.2.53', port: 53 } });
  const daemon = new WorkerDaemon({ controllerUrl: server.url, token: await server.localWorkerToken(), runtime, version: 'bench', log: quiet, networks });
  await daemon.start();
  const api = moduleApi(server.url, key);
  const log = (line: string) => console.log(line);
  log(`# network benchmark — ${new Date().toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; accelerator: ${runtime.accelerator.accelerator}; ${RUNS} runs each; bunker ${JSON.stringify(SHAPE)}`);

  // The worker's own work, without a VM: a second set of networks in a namespace of its own.
  const spare = `sbbench-up-${randomBytes(3).toString('hex')}`;
  await addNetns(spare);
  const alone = await BunkerNetworks.open({ stateDir: join(dataDir, 'alone'), uplinkNetns: spare, dnsUpstream: { address: '192.0.2.53', port: 53 }, dnsPort: 10054 });
  for (const profile of ['unrestricted', 'allowlisted'] as const) {
    const vmmReady: number[] = [];
    const whole: number[] = [];
    const detach: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const id = `bnk_${randomBytes(13).toString('hex').slice(0, 26)}`;
      let t = performance.now();
      const network = await alone.attach(id, { profile, ...(profile === 'allowlisted' ? { allowlist: ['api.example.test'] } : {}) });
      vmmReady.push(performance.now() - t);
      await network.ready;
      whole.push(performance.now() - t);
      t = performance.now();
      await alone.detach(id);
      detach.push(performance.now() - t);
    }
    log(`network setup, ${profile}: until its VMM can start ${fmt(summarize(vmmReady))}; whole ${fmt(summarize(whole))}; removal ${fmt(summarize(detach))}`);
  }
  await alone.close();

  const tti = async (body: Record<string, unknown>) => {
    const started = performance.now();
    const created = await api('POST', '/bunkers', { ...SHAPE, ...body });
    if (created.status !== 'ok' || created.data.status !== 'running') throw new Error(`create failed: ${JSON.stringify(created.error ?? created.data?.failure_reason)}`);
    const echoed = await api('POST', `/bunkers/${created.data.id}/exec`, { command: ['echo', 'ok'] });
    const ms = performance.now() - started;
    if (echoed.data?.stdout !== 'ok\n') throw new Error('echo failed');
    await api('DELETE', `/bunkers/${created.data.id}`);
    return ms;
  };
  const profiles: Record<string, Record<string, unknown>> = {
    isolated: {},
    unrestricted: { network_profile: 'unrestricted' },
    allowlisted: { network_profile: 'allowlisted', network_allowlist: ['api.example.test'] },
    'unrestricted + 10 Mbit/s': { network_profile: 'unrestricted', bandwidth_mbit: 10 },
  };
  for (const [name, body] of Object.entries(profiles)) {
    await tti(body); // the template of this shape, built once, outside the timing
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await tti(body));
    log(`TTI ${name}: ${fmt(summarize(samples))}`);
  }
  await daemon.stop();
  await runtime.close();
  await server.close();
  await deleteNetns(uplink);
  await deleteNetns(spare);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
