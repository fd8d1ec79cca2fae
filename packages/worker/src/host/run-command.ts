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

/** Runs a host tool without a shell and returns its output, or throws CommandError. `input` is written to its stdin. */
export function runCommand(file: string, args: readonly string[], options: { cwd?: string; signal?: AbortSignal; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CommandOutput> {
  const { input, ...execOptions } = options;
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024, ...execOptions }, (error, stdout, stderr) => {
      if (error) reject(new CommandError([file, ...args].join(' '), typeof error.code === 'number' ? error.code : null, String(stderr)));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) {
      // A tool that exits before reading all of it fails on its own terms, reported above.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}
