import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testDatabaseKind } from '@scaibunker/db/testing';
import { CLI } from './cli-process.js';

/** A `scaibunker serve` process and the URL it listens on. */
export interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `scaibunker serve` as a real process and waits until it listens. */
export function startServer(env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Served> {
  // A served worker never sets bunker networks up in the machine's own namespace: the
  // network tests give their workers an uplink namespace of their own (fake-internet.ts).
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...process.env, SCAIBUNKER_NETWORK: 'off', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
}

/** Sends SIGTERM and resolves with the exit code once the server has shut down. */
export function stopServer(served: Served): Promise<number | null> {
  return new Promise((resolvePromise) => {
    served.child.removeAllListeners('exit');
    if (served.child.exitCode !== null) return resolvePromise(served.child.exitCode);
    served.child.on('exit', (code) => resolvePromise(code));
    served.child.kill('SIGTERM');
  });
}

/**
 * Bunker VMs outlive `serve` by design (the next start adopts them): a test that is done with
 * a data directory ends whatever VMs are still running from it.
 */
export function endLeftoverVms(dataDir: string): void {
  spawnSync('pkill', ['-KILL', '-f', `${dataDir}/vms/`]);
}

/** `scaibunker serve` on the suite's database (PostgreSQL on that pass), with the env a CLI run talks to it with. */
export interface ServedForCli {
  dataDir: string;
  /** SCAIBUNKER_* of the server, and SCAIGRID_HOST pointing at it: what `runCli` is given. */
  env: NodeJS.ProcessEnv;
  served: Served;
  /** Stops the server (answering its exit code), ends its leftover VMs and removes its data. */
  close(): Promise<number | null>;
}

export async function serveForCli(name: string, mode: 'all' | 'controller'): Promise<ServedForCli> {
  const dataDir = mkdtempSync(join(tmpdir(), `scaibunker-${name}-`));
  const env: NodeJS.ProcessEnv = { SCAIBUNKER_DATA_DIR: dataDir, SCAIBUNKER_LISTEN: '127.0.0.1:0', SCAIGRID_HOST: '', SCAIGRID_API_KEY: '', SCAIGRID_MODE: mode };
  const database = testDatabaseKind() === 'postgres' ? await createTestDatabase() : undefined;
  if (database?.config.kind === 'postgres') env.SCAIBUNKER_DATABASE_URL = database.config.url;
  const served = await startServer(env);
  env.SCAIGRID_HOST = served.url;
  return {
    dataDir, env, served,
    async close() {
      const code = await stopServer(served);
      await database?.close();
      endLeftoverVms(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
