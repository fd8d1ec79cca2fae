import type { Duplex, Readable } from 'node:stream';
import type { BunkerNetworkLaunch, ExecBody, ExecResult, NetworkDenial } from '@scaibunker/contracts';

/** What a worker answers `bunker.network` with. */
export interface WorkerNetworkStatus {
  mac: string;
  address: string;
  gateway: string;
  denied: { names: number; connections: number };
  recent_denials: NetworkDenial[];
}

/** What a worker needs to start one bunker's microVM. */
export interface BunkerLaunch {
  bunkerId: string;
  image: string;
  cpuMillicores: number;
  memoryMb: number;
  diskMb: number;
  envVars: Record<string, string>;
  /** Absent for isolated bunkers. */
  network?: BunkerNetworkLaunch | undefined;
}

/**
 * The controller's way to reach workers: implemented by the worker hub over each worker's
 * link, so the bunker service stays free of transport details. Every call fails with
 * WORKER_UNAVAILABLE when the worker's link is down.
 */
export interface WorkerGateway {
  startBunker(workerId: string, launch: BunkerLaunch): Promise<void>;
  stopBunker(workerId: string, bunkerId: string): Promise<void>;
  pauseBunker(workerId: string, bunkerId: string): Promise<void>;
  resumeBunker(workerId: string, bunkerId: string): Promise<void>;
  /** Makes a transit bridge on the worker (idempotent). */
  createBridge(workerId: string, bridgeId: string): Promise<void>;
  deleteBridge(workerId: string, bridgeId: string): Promise<void>;
  /** A running networked bunker's network as its worker sees it. */
  bunkerNetwork(workerId: string, bunkerId: string): Promise<WorkerNetworkStatus>;
  exec(workerId: string, bunkerId: string, request: ExecRequest): Promise<ExecResult>;
  /** A guest file's bytes, streamed with flow control end to end (never held whole). */
  readFile(workerId: string, bunkerId: string, path: string): Promise<{ size: number; mode: number; content: Readable }>;
  writeFile(workerId: string, bunkerId: string, path: string, content: Readable, options: { mode?: number | undefined; asRoot: boolean }): Promise<{ size: number }>;
  stat(workerId: string, bunkerId: string, path: string): Promise<GuestStat>;
  list(workerId: string, bunkerId: string, path: string): Promise<{ entries: (GuestStat & { name: string })[]; truncated: boolean }>;
  mkdir(workerId: string, bunkerId: string, path: string, mode: number | undefined): Promise<void>;
  remove(workerId: string, bunkerId: string, path: string, recursive: boolean): Promise<void>;
  /** Starts a process whose output is NDJSON events, attached (`output` streams until its exit) or in the background. */
  startProcess(workerId: string, bunkerId: string, request: ExecRequest, background: boolean): Promise<{ pid: number; output?: Readable }>;
  /** A process's kept output as NDJSON events, then (with `follow`) the rest until its exit. */
  processOutput(workerId: string, bunkerId: string, pid: number, follow: boolean): Promise<Readable>;
  listProcesses(workerId: string, bunkerId: string): Promise<ProcessInfo[]>;
  signalProcess(workerId: string, bunkerId: string, pid: number, signal: number): Promise<void>;
  writeStdin(workerId: string, bunkerId: string, pid: number, data: string, eof: boolean): Promise<void>;
  /** Streams bytes into a process's stdin with flow control end to end; closes it at the end when `eof`. */
  streamStdin(workerId: string, bunkerId: string, pid: number, content: Readable, eof: boolean): Promise<{ bytes: number }>;
  /** Opens (or, with `session`, reattaches to) a shell on a PTY: terminal bytes flow both ways on `terminal`. */
  attachShell(workerId: string, bunkerId: string, options: { session?: string | undefined; cols?: number | undefined; rows?: number | undefined; user?: string | undefined; env: Record<string, string> }): Promise<{ session: string; terminal: Duplex }>;
  resizeShell(workerId: string, bunkerId: string, session: string, cols: number, rows: number): Promise<void>;
  shellStatus(workerId: string, bunkerId: string, session: string): Promise<{ open: boolean; exit: ProcessInfo['exit'] }>;
}

/** A process started through the API, as the worker reports it. */
export interface ProcessInfo {
  pid: number;
  argv: string[];
  background: boolean;
  started_at: string;
  exit: { exit_code: number | null; signal: string | null; timed_out: boolean } | null;
}

/** A file or directory inside a bunker, as the worker reports it. */
export interface GuestStat {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
}

/** A sync exec as the worker runs it: argv resolved, environment merged, caps applied. */
export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  user?: string | undefined;
  stdin?: string | undefined;
  /** Keep stdin open after `stdin` for later writes by pid. */
  stdinOpen?: boolean | undefined;
  timeoutS: number;
  /** Bytes of stdout and of stderr kept; the rest is dropped and `truncated` set. */
  outputCapBytes: number;
}

/** Turns the API's exec body into what the worker runs: a string runs under `/bin/sh -c`. */
export function toExecRequest(body: ExecBody, envVars: Record<string, string>, defaults: { timeoutS: number; outputCapBytes: number }): ExecRequest {
  return {
    argv: typeof body.command === 'string' ? ['/bin/sh', '-c', body.command] : body.command,
    env: { ...envVars, ...body.env },
    cwd: body.cwd,
    user: body.user,
    stdin: body.stdin,
    stdinOpen: body.stdin_open,
    timeoutS: body.timeout_s ?? defaults.timeoutS,
    outputCapBytes: defaults.outputCapBytes,
  };
}
