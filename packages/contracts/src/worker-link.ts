/**
 * The controller⇄worker link (see packages/link): where workers dial in, and the names of
 * the calls and events both sides exchange over it.
 */
export const WORKER_LINK_PATH = '/v1/modules/scaibunker/workers/link';

/** Calls the controller makes to a worker, and the one a worker makes first. */
export const LINK_CALLS = {
  /** worker → controller, first thing on every link: capacity, images, running bunkers. */
  hello: 'worker.hello',
  startBunker: 'bunker.start',
  stopBunker: 'bunker.stop',
  pauseBunker: 'bunker.pause',
  resumeBunker: 'bunker.resume',
  /** Transit bridges: made (idempotent) and deleted on the worker the controller placed them on. */
  bridgeCreate: 'bridge.create',
  bridgeDelete: 'bridge.delete',
  /** A networked bunker's addresses and refusals (NOT_FOUND: no network here). */
  bunkerNetwork: 'bunker.network',
  exec: 'exec.run',
  /** Files: a read answers with a stream the worker opened; a write names one the controller opened. */
  fileRead: 'file.read',
  fileWrite: 'file.write',
  fileStat: 'file.stat',
  fileList: 'file.list',
  fileMkdir: 'file.mkdir',
  fileRemove: 'file.remove',
  /** Processes whose output is NDJSON events: attached to a stream the controller opened, or in the background. */
  processStart: 'process.start',
  processOutput: 'process.output',
  processList: 'process.list',
  processSignal: 'process.signal',
  processStdin: 'process.stdin',
  /** Shells: terminal bytes flow on a stream the controller opened; a session outlives its stream. */
  shellAttach: 'shell.attach',
  shellResize: 'shell.resize',
  shellStatus: 'shell.status',
} as const;

/** A networked bunker's network, as `bunker.start` carries it (no `network`: isolated, no NIC at all). */
export interface BunkerNetworkLaunch {
  profile: 'registry' | 'allowlisted' | 'unrestricted' | 'transit';
  /** `allowlisted`: the normalised `network_allowlist`. */
  allowlist?: string[] | undefined;
  /** Caps each direction (Mbit/s). */
  bandwidthMbit?: number | undefined;
  /** Every flow goes to the egress audit. */
  egressAudit?: boolean | undefined;
  /** `transit`: further NICs, each on a tenant bridge of this worker. */
  interfaces?: TransitInterfaceLaunch[] | undefined;
}

/** A transit NIC: the guest's `ifName` with `mac`, a port of bridge `bridgeId`. */
export interface TransitInterfaceLaunch {
  ifName: string;
  bridgeId: string;
  mac: string;
  spoofGuard: boolean;
}

/** One-way events a worker sends. */
export const LINK_EVENTS = {
  heartbeat: 'heartbeat',
  /** A bunker's VM ended without being asked to (crash, guest poweroff). */
  bunkerExited: 'bunker.exited',
} as const;
