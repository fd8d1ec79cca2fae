import { join, resolve } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';

/** What `serve` stops on SIGINT/SIGTERM, in order. */
type Stopper = () => Promise<void>;

/**
 * `scaibunker serve`: runs the process role chosen by SCAIGRID_MODE until SIGINT/SIGTERM:
 * `all` (the controller and this host's own worker), `controller`, or `worker` (a worker
 * daemon dialing SCAIBUNKER_CONTROLLER_URL with SCAIBUNKER_WORKER_TOKEN).
 */
export async function serve(): Promise<void> {
  // Loaded here so that client commands never pay for the server's dependencies.
  const { loadConfig, startServer, VERSION } = await import('@scaibunker/controller');
  const config = loadConfig();
  const stoppers: Stopper[] = [];
  let log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void } = {
    info: () => undefined, warn: () => undefined, error: (obj, msg) => console.error(msg, obj),
  };

  // Signals are taken from the start: one that arrives while the worker is still starting
  // (a slow first template, say) waits for the start, then stops everything started so far.
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    starting.catch(() => undefined).then(async () => { for (const stopper of stoppers.reverse()) await stopper(); }).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  starting = (async () => {
    if (config.mode === 'worker') {
      const controllerUrl = process.env.SCAIBUNKER_CONTROLLER_URL;
      const token = process.env.SCAIBUNKER_WORKER_TOKEN;
      if (!controllerUrl || !token) {
        throw new ScaiError('VALIDATION_ERROR', 'SCAIGRID_MODE=worker needs SCAIBUNKER_CONTROLLER_URL and SCAIBUNKER_WORKER_TOKEN (issued by `scaibunker worker create`).', {
          details: [{ field: controllerUrl ? 'SCAIBUNKER_WORKER_TOKEN' : 'SCAIBUNKER_CONTROLLER_URL', message: 'required in worker mode' }],
        });
      }
      const { default: pino } = await import('pino');
      log = pino({ level: config.logLevel });
      stoppers.push(await startWorker(controllerUrl, token, config.dataDir, VERSION, log));
      return;
    }
    const server = await startServer(config);
    log = server.app.log;
    stoppers.push(() => server.close());
    // The worker goes after the server is up (it dials it) and stops before it.
    if (config.mode === 'all' && !stopping) stoppers.push(await startWorker(server.url, await server.localWorkerToken(), config.dataDir, VERSION, log));
  })();
  try {
    await starting;
  } catch (error) {
    for (const stopper of stoppers.reverse()) await stopper().catch(() => undefined);
    throw error;
  }
}

/** Opens this host's microVM runtime and dials the controller; resolves once registered. */
async function startWorker(controllerUrl: string, token: string, dataDir: string, version: string, log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }): Promise<Stopper> {
  const { VmRuntime, WorkerDaemon, BunkerNetworks, DEFAULT_CACHE_DIR, kernelFlavourFromEnv, diskModeFromEnv, networkOptionsFromEnv, parseWarmPool, standbyVmmsFromEnv } = await import('@scaibunker/worker');
  const warmPool = parseWarmPool(process.env.SCAIBUNKER_WARM_POOL);
  const runtime = await VmRuntime.open({
    dataDir, cacheDir: resolve(process.env.SCAIBUNKER_CACHE_DIR ?? DEFAULT_CACHE_DIR), acceleratorOverride: process.env.SCAIBUNKER_ACCEL,
    kernel: kernelFlavourFromEnv(process.env.SCAIBUNKER_GUEST_KERNEL),
    diskMode: diskModeFromEnv(process.env.SCAIBUNKER_DISK_MODE),
    standbyVmms: standbyVmmsFromEnv(process.env.SCAIBUNKER_STANDBY_VMMS),
  });
  log.info({ vmm: runtime.vmm, accelerator: runtime.accelerator.accelerator, reason: runtime.accelerator.reason }, 'microVM runtime ready');
  const { LocalObjectStore } = await import('@scaibunker/storage');
  // The same store the controller reads the egress audit from (mode all shares the data dir).
  const auditStore = new LocalObjectStore(join(dataDir, 'objects'));
  const networks = await openNetworks(() => networkOptionsFromEnv(process.env, dataDir).then((options) => options && BunkerNetworks.open({
    ...options, auditStore,
    onDenial: (bunkerId, denial) => log.info({ bunkerId, denial }, 'network refusal'),
    onAuditError: (bunkerId, error) => log.warn({ bunkerId, err: error }, 'egress audit batch not written'),
    log: (message) => log.warn({}, message),
  })), log);
  const daemon = new WorkerDaemon({
    controllerUrl, token, runtime, version, log, warmPool, ...(networks ? { networks } : {}),
    ...(process.env.SCAIBUNKER_WORKER_CPU_MILLICORES ? { cpuMillicores: Number(process.env.SCAIBUNKER_WORKER_CPU_MILLICORES) } : {}),
    ...(process.env.SCAIBUNKER_WORKER_MEMORY_MB ? { memoryMb: Number(process.env.SCAIBUNKER_WORKER_MEMORY_MB) } : {}),
    ...(process.env.SCAIBUNKER_WORKER_DISK_MB ? { diskMb: Number(process.env.SCAIBUNKER_WORKER_DISK_MB) } : {}),
  });
  await daemon.start();
  // Bunkers outlive the worker process: the next start adopts them (see VmRuntime.adoptRunning).
  return async () => {
    await daemon.stop({ keepBunkers: true });
    await runtime.close();
  };
}

/**
 * Bunker networking, when the host allows it: a host without nftables (or with
 * SCAIBUNKER_NETWORK=off) still runs isolated bunkers, and says why the others are refused.
 */
async function openNetworks<T>(open: () => Promise<T | undefined>, log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }): Promise<T | undefined> {
  try {
    const networks = await open();
    if (networks) log.info({ uplinkNetns: process.env.SCAIBUNKER_NETWORK_UPLINK_NETNS || '(this host)' }, 'bunker networking ready');
    else log.info({}, 'bunker networking off (SCAIBUNKER_NETWORK=off): isolated bunkers only');
    return networks;
  } catch (error) {
    log.warn({ err: error }, 'bunker networking unavailable: isolated bunkers only');
    return undefined;
  }
}
