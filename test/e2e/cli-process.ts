import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The built CLI, as `npx scaibunker` runs it. */
export const CLI = resolve(import.meta.dirname, '../../packages/cli/bin/scaibunker.js');

/** What a finished CLI run printed and how it exited. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion with extra environment and, optionally, stdin. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input: string | Buffer = ''): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
    // A CLI may exit before reading all of its input (as `head` would): not the test's error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
