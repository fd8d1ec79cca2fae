import { execFile } from 'node:child_process';

/** The output of a finished command. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** A host command that failed: which one, its exit code, and what it printed on stderr. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (exit ${exitCode}): ${stderr.trim().slice(-800)}`);
  }
}

/** Runs a host tool without a shell and returns its output, or throws CommandError. */
export function runCommand(file: string, args: readonly string[], options: { cwd?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv } = {}): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      if (error) reject(new CommandError([file, ...args].join(' '), typeof error.code === 'number' ? error.code : null, String(stderr)));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
