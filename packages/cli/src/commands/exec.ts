import { ScaiError, type ExecResult } from '@scaibunker/contracts';
import type { ProcessEvent, StartBody } from '@scaibunker/sdk';
import { printJson } from '../output.js';
import { arg, keyValues, positiveInt, str } from './command-args.js';
import type { Command, CommandContext } from './platform.js';
import { printEvents } from './process-output.js';

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

/** All of stdin when it is piped or redirected (for --json and --background, which send it whole); nothing from a terminal. */
async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/**
 * Passes the events on, and once the process has started, streams our stdin into it (bytes as
 * they are, at the pace the process reads). A process that exits without reading it all is not
 * an error: the shell's broken pipe.
 */
async function* withLiveStdin(events: AsyncIterable<ProcessEvent>, send: (pid: number) => Promise<unknown>): AsyncGenerator<ProcessEvent> {
  let sending: Promise<unknown> | undefined;
  for await (const event of events) {
    if ('started' in event && !sending) {
      sending = send(event.started.pid).catch((error: unknown) => {
        if (!(error instanceof ScaiError && error.code === 'CONFLICT')) throw error;
      });
      sending.catch(() => undefined);
    }
    yield event;
  }
  await sending;
}

/** The exit's note on stderr when it was not a plain exit code. */
function describeExit(exit: Pick<ExecResult, 'signal' | 'timed_out'>, timeoutS: number | undefined): string | undefined {
  if (exit.timed_out) return `scaibunker: timed out${timeoutS ? ` after ${timeoutS} s` : ''}\n`;
  if (exit.signal) return `scaibunker: killed by ${exit.signal}\n`;
  return undefined;
}

const EXEC_FLAGS = {
  user: { type: 'string' }, cwd: { type: 'string' }, env: { type: 'string', multiple: true }, timeout: { type: 'string' },
  'no-stdin': { type: 'boolean' }, background: { type: 'boolean' },
} as const;

/** The request body from the command line, with piped stdin read whole when `readStdinWhole` (unless --no-stdin). */
async function execBody(ctx: CommandContext, readStdinWhole: boolean): Promise<StartBody> {
  const argv = ctx.args.slice(1);
  if (argv.length === 0) throw new ScaiError('VALIDATION_ERROR', 'Give the command to run after --, e.g. `exec bnk_… -- uname -a`.');
  const user = str(ctx, 'user');
  const cwd = str(ctx, 'cwd');
  const env = keyValues(ctx, 'env');
  const timeoutS = positiveInt(ctx, 'timeout');
  const stdin = ctx.flags['no-stdin'] || !readStdinWhole ? undefined : await readStdin();
  return {
    command: argv, ...(user ? { user } : {}), ...(cwd ? { cwd } : {}), ...(env ? { env } : {}),
    ...(timeoutS ? { timeout_s: timeoutS } : {}), ...(stdin !== undefined ? { stdin } : {}),
  };
}

/** `scaibunker exec`: run one command in a running bunker, stream its output, exit with its code. */
export const EXEC_COMMANDS: Record<string, Command> = {
  exec: {
    usage: 'exec <bunker_id> [--user U] [--cwd DIR] [--env K=V …] [--timeout S] [--no-stdin] [--background] -- COMMAND [ARGS…]   '
      + '(streams its output, and piped stdin live; exits with its code: 124 on timeout, 128+n on signal n; --json waits for the result; --background prints the pid)',
    flags: EXEC_FLAGS,
    run: async (ctx) => {
      const id = arg(ctx, 0, 'bunker_id');
      // Streaming (the default) sends piped stdin live; --json and --background send it whole.
      const liveStdin = !ctx.json && !ctx.flags.background && !ctx.flags['no-stdin'] && !process.stdin.isTTY;
      const body = await execBody(ctx, !liveStdin);
      const client = ctx.client();
      if (ctx.flags.background) {
        const { pid } = await client.bunkers.startBackground(id, body);
        if (ctx.json) printJson({ pid, background: true });
        else process.stdout.write(`${pid}\n`);
        return;
      }
      let exit: Pick<ExecResult, 'exit_code' | 'signal' | 'timed_out'> | undefined;
      if (ctx.json) {
        const result = await client.bunkers.exec(id, body);
        printJson(result);
        exit = result;
      } else {
        const events = liveStdin
          ? withLiveStdin(client.bunkers.execStream(id, { ...body, stdin_open: true }), (pid) => client.processes.streamStdin(id, pid, process.stdin))
          : client.bunkers.execStream(id, body);
        exit = await printEvents(events);
        // What the process did not read is left unread (its stdin is closed): let the CLI exit.
        if (liveStdin) process.stdin.destroy();
        if (!exit) throw new ScaiError('INTERNAL', 'The output stream ended before the command exited.');
        const note = describeExit(exit, body.timeout_s);
        if (note) process.stderr.write(note);
      }
      const code = exitCodeOf(exit);
      if (code !== 0) process.exitCode = code;
    },
  },
};
