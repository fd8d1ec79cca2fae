import { ScaiError, type ExecResult } from '@scaibunker/contracts';
import { printJson } from '../output.js';
import { arg, keyValues, positiveInt, str } from './command-args.js';
import type { Command } from './platform.js';

/** Linux signal numbers (the guest is Linux, whatever the CLI's host is). */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
};

/** The shell's convention: the exit code, 124 on timeout (as timeout(1)), 128+n when killed by signal n. */
export function exitCodeOf(result: Pick<ExecResult, 'exit_code' | 'signal' | 'timed_out'>): number {
  if (result.timed_out) return 124;
  if (result.signal) {
    // The worker names the signals it knows and reports others as `SIG<n>`.
    const number = SIGNAL_NUMBERS[result.signal] ?? Number(/^SIG(\d+)$/.exec(result.signal)?.[1]);
    return Number.isInteger(number) && number > 0 ? 128 + number : 1;
  }
  return result.exit_code ?? 1;
}

/** All of stdin when it is piped or redirected; nothing when it is a terminal. */
async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/** `scaibunker exec`: run one command in a running bunker, print its output, exit with its code. */
export const EXEC_COMMANDS: Record<string, Command> = {
  exec: {
    usage: 'exec <bunker_id> [--user U] [--cwd DIR] [--env K=V …] [--timeout S] [--no-stdin] -- COMMAND [ARGS…]   (exits with its code; 124 on timeout)',
    flags: { user: { type: 'string' }, cwd: { type: 'string' }, env: { type: 'string', multiple: true }, timeout: { type: 'string' }, 'no-stdin': { type: 'boolean' } },
    run: async (ctx) => {
      const id = arg(ctx, 0, 'bunker_id');
      const argv = ctx.args.slice(1);
      if (argv.length === 0) throw new ScaiError('VALIDATION_ERROR', 'Give the command to run after --, e.g. `exec bnk_… -- uname -a`.');
      const user = str(ctx, 'user');
      const cwd = str(ctx, 'cwd');
      const env = keyValues(ctx, 'env');
      const timeoutS = positiveInt(ctx, 'timeout');
      const stdin = ctx.flags['no-stdin'] ? undefined : await readStdin();
      const result = await ctx.client().bunkers.exec(id, {
        command: argv, ...(user ? { user } : {}), ...(cwd ? { cwd } : {}), ...(env ? { env } : {}),
        ...(timeoutS ? { timeout_s: timeoutS } : {}), ...(stdin !== undefined ? { stdin } : {}),
      });
      if (ctx.json) {
        printJson(result);
      } else {
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        if (result.timed_out) process.stderr.write(`scaibunker: timed out after ${timeoutS ?? Math.round(result.duration_ms / 1000)} s\n`);
        else if (result.signal) process.stderr.write(`scaibunker: killed by ${result.signal}\n`);
        if (result.truncated) process.stderr.write('scaibunker: output truncated (the API keeps only the start of each stream)\n');
      }
      const code = exitCodeOf(result);
      if (code !== 0) process.exitCode = code;
    },
  },
};
