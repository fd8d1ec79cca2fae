import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CLI } from './cli-process.js';

/** A `scaibunker serve` process and the URL it listens on. */
export interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `scaibunker serve` as a real process and waits until it listens. */
export function startServer(env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
