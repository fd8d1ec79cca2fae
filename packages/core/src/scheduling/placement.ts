/** The resources one bunker asks for, or one worker has. */
export interface Resources {
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  gpuCount: number;
}

/** What the scheduler knows of a worker when placing. */
export interface WorkerCandidate {
  id: string;
  online: boolean;
  draining: boolean;
  capacity: Resources;
  /** What its live bunkers hold (placed ones included, even before they report). */
  used: Resources;
  /** Images it has ready to start from. */
  readyImages: ReadonlySet<string>;
  gpuType: string | null;
  /** It builds bunker networks (absent: it does not). */
  networkReady?: boolean;
}

/** What a new bunker needs. */
export interface PlacementRequest extends Resources {
  image: string;
  gpuType: string | null;
  /** The image may be fetched on demand by a worker that does not have it yet. */
  lazyPull: boolean;
  /** Only this worker will do (a transit bunker runs where its bridges are). */
  onlyWorker?: string | undefined;
  /** The bunker has a network: only workers that build them will do. */
  network?: boolean | undefined;
}

export type PlacementResult =
  | { ok: true; workerId: string }
  | { ok: false; code: 'WORKER_UNAVAILABLE' | 'NO_SUITABLE_WORKER'; reason: string };

const KINDS: (keyof Resources)[] = ['cpuMillicores', 'memoryMb', 'diskMb', 'gpuCount'];

function free(worker: WorkerCandidate, kind: keyof Resources): number {
  return worker.capacity[kind] - worker.used[kind];
}

/**
 * Picks the worker for a new bunker (spec §4): online and not draining, with the image ready
 * (unless it can be pulled lazily), with free CPU, memory, disk and GPU. Among those, the one
 * left with the most free memory (then CPU) wins, which spreads load and keeps room for big
 * bunkers. Pure: the caller runs it inside the transaction that records the placement, so two
 * concurrent creates never both take the last slot.
 */
export function choosePlacement(request: PlacementRequest, workers: readonly WorkerCandidate[]): PlacementResult {
  const live = workers.filter((w) => w.online && !w.draining && (request.onlyWorker === undefined || w.id === request.onlyWorker));
  if (live.length === 0) {
    return { ok: false, code: 'WORKER_UNAVAILABLE', reason: request.onlyWorker ? `Worker ${request.onlyWorker} (where the bridges are) is not online and accepting bunkers.` : 'No worker is online and accepting bunkers.' };
  }
  const networked = request.network ? live.filter((w) => w.networkReady) : live;
  if (networked.length === 0) return { ok: false, code: 'NO_SUITABLE_WORKER', reason: 'No online worker has bunker networking set up (its host lacks nftables, or SCAIBUNKER_NETWORK=off).' };
  const withImage = request.lazyPull ? networked : networked.filter((w) => w.readyImages.has(request.image));
  if (withImage.length === 0) {
    return { ok: false, code: 'NO_SUITABLE_WORKER', reason: `No worker has the image "${request.image}" ready.` };
  }
  const fitting = withImage.filter((w) =>
    KINDS.every((kind) => free(w, kind) >= request[kind]) && (request.gpuCount === 0 || request.gpuType === null || w.gpuType === request.gpuType));
  if (fitting.length === 0) {
    const short = KINDS.filter((kind) => request[kind] > 0 && withImage.every((w) => free(w, kind) < request[kind]));
    return { ok: false, code: 'WORKER_UNAVAILABLE', reason: `No worker has enough free ${short.length ? short.join(', ') : 'capacity'} for this bunker.` };
  }
  const best = fitting.reduce((a, b) =>
    free(b, 'memoryMb') - request.memoryMb > free(a, 'memoryMb') - request.memoryMb
    || (free(b, 'memoryMb') === free(a, 'memoryMb') && free(b, 'cpuMillicores') > free(a, 'cpuMillicores')) ? b : a);
  return { ok: true, workerId: best.id };
}
