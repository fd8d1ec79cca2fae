import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScaiError } from '@scaibunker/contracts';
import type { BunkerShell, ScaiBunkerClient, ShellClosed } from '@scaibunker/sdk';
import { arg, str } from './command-args.js';
import { exitCodeOf } from './exec.js';
import type { Command } from './platform.js';
import { OutputTail, replayOverlap } from './replay-overlap.js';

/** Waits between attempts to reattach a dropped shell; one attempt per entry. */
const REATTACH_DELAYS_MS = [250, 500, 1000, 2000, 4000];
/** A connection that stayed up this long resets the reattach attempts. */
const STABLE_MS = 10_000;
/** How long a reattached shell's first output is gathered to drop what was already printed. */
const REPLAY_WINDOW_MS = 200;
/** ^D, and how often it is sent again after piped input ended, until the shell ends. */
const EOF = Buffer.from([4]);
const EOF_REPEAT_MS = 500;

/** The terminal the shell runs in: its input and its output. */
export interface ShellTerminal {
  input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
}

/** Signals that would end the CLI with its terminal left in raw mode. */
const ENDING_SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT'] as const;

/** Sends input to whichever socket is attached, holding it while a dropped shell reattaches. */
class InputRelay {
  private shell: BunkerShell | undefined;
  private held: Buffer[] = [];

  attach(shell: BunkerShell | undefined): void {
    this.shell = shell;
    if (shell) for (const chunk of this.held.splice(0)) shell.write(chunk);
  }

  write(chunk: Buffer): void {
    if (!this.shell?.write(chunk)) this.held.push(chunk);
  }
}

/**
 * Runs an interactive shell in a bunker on `terminal` and answers its exit code. When the
 * socket drops, the shell is reattached by session id, with backoff, and the replayed output
 * already printed is skipped.
 */
export async function runShell(client: ScaiBunkerClient, bunkerId: string, options: { user?: string | undefined }, terminal: ShellTerminal, delaysMs = REATTACH_DELAYS_MS): Promise<number> {
  const relay = new InputRelay();
  const printed = new OutputTail();
  let current: BunkerShell | undefined;
  const disconnect = connectTerminal(terminal, relay, (cols, rows) => current?.resize(cols, rows));
  try {
    let session: string | undefined;
    let failures = 0;
    for (;;) {
      const shell = client.shell(bunkerId, { ...sizeOf(terminal.output), ...(session ? { session } : {}), ...(options.user ? { user: options.user } : {}) });
      current = shell;
      const printing = printOutput(shell, terminal.output, printed, session !== undefined);
      let openedAt: number | undefined;
      void shell.session.then((id) => { session = id; openedAt = Date.now(); relay.attach(shell); }, () => undefined);
      let closed: ShellClosed | undefined;
      try {
        closed = await shell.closed;
      } catch (error) {
        // A refusal is final; so is failing to open at all. Only a reattach is retried.
        if (error instanceof ScaiError || session === undefined) throw error;
      } finally {
        relay.attach(undefined);
        await printing;
      }
      if (closed?.exit) return exitCodeOf(closed.exit);
      // The socket dropped, or closed without the shell's exit: a reattach reports the exit
      // of an ended shell, or why it is gone. A connection that held for a while earns a fresh budget.
      if (openedAt !== undefined && Date.now() - openedAt >= STABLE_MS) failures = 0;
      const delay = delaysMs[failures++];
      if (delay === undefined) throw new ScaiError('SERVICE_UNAVAILABLE', `The connection to the shell dropped and could not be restored after ${delaysMs.length} attempts.`);
      await sleep(delay);
    }
  } finally {
    disconnect();
  }
}

/** The local terminal's size, when the output is one. */
function sizeOf(output: ShellTerminal['output']): { cols?: number; rows?: number } {
  return output.isTTY && output.columns && output.rows ? { cols: output.columns, rows: output.rows } : {};
}

/**
 * Feeds the terminal's input to the relay and its size changes to `resize`: a terminal input
 * goes to raw mode (restored by the returned function, on exit, and on ending signals); piped
 * input ends with Enter (for a last line without its newline), then ^D as typed, repeated until
 * the shell ends: a ^D that reaches the PTY in canonical mode (a command running, or the line
 * editor not started yet) becomes a NUL once the editor switches the PTY to raw mode, and
 * would be lost.
 */
function connectTerminal(terminal: ShellTerminal, relay: InputRelay, resize: (cols: number, rows: number) => void): () => void {
  const { input, output } = terminal;
  let lastByte: number | undefined;
  let eofTimer: NodeJS.Timeout | undefined;
  const onInput = (chunk: Buffer) => {
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
    relay.write(chunk);
  };
  const onEnd = () => {
    if (lastByte !== undefined && lastByte !== 0x0a && lastByte !== 0x0d) relay.write(Buffer.from('\r'));
    relay.write(EOF);
    eofTimer = setInterval(() => relay.write(EOF), EOF_REPEAT_MS).unref();
  };
  const onResize = () => {
    const { cols, rows } = sizeOf(output);
    if (cols && rows) resize(cols, rows);
  };
  const raw = input.isTTY === true && typeof input.setRawMode === 'function';
  const restore = () => { if (raw) input.setRawMode!(false); };
  const onSignal = (signal: NodeJS.Signals) => {
    restore();
    process.exit(128 + constants.signals[signal]);
  };
  if (raw) {
    input.setRawMode!(true);
    process.once('exit', restore);
    for (const signal of ENDING_SIGNALS) process.once(signal, onSignal);
  }
  input.on('data', onInput);
  input.once('end', onEnd);
  output.on('resize', onResize);
  return () => {
    clearInterval(eofTimer);
    input.off('data', onInput);
    input.off('end', onEnd);
    output.off('resize', onResize);
    restore();
    process.off('exit', restore);
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
    input.pause();
  };
}

/**
 * Prints a socket's terminal output as it comes. After a reattach, its first output (the
 * server's replay) is gathered briefly and only what was not printed before goes out.
 */
function printOutput(shell: BunkerShell, output: NodeJS.WritableStream, printed: OutputTail, reattached: boolean): Promise<void> {
  const emit = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    printed.push(bytes);
    output.write(bytes);
  };
  if (!reattached) {
    shell.onData(emit);
    return shell.closed.then(() => undefined, () => undefined);
  }
  const gathered: Uint8Array[] = [];
  const stopGathering = shell.onData((bytes) => gathered.push(bytes));
  const flush = () => {
    stopGathering();
    const replay = Buffer.concat(gathered);
    emit(replay.subarray(replayOverlap(printed.bytes(), replay)));
    shell.onData(emit);
  };
  const window = shell.session.then(() => sleep(REPLAY_WINDOW_MS));
  return Promise.race([window, shell.closed]).then(flush, flush);
}

/** `scaibunker shell`: an interactive shell in a bunker, exiting with the shell's code. */
export const SHELL_COMMANDS: Record<string, Command> = {
  shell: {
    usage: 'shell <bunker_id> [--user U]   (interactive on a terminal; piped stdin runs as typed; exits with the shell’s code)',
    flags: { user: { type: 'string' } },
    run: async (ctx) => {
      const code = await runShell(ctx.client(), arg(ctx, 0, 'bunker_id'), { user: str(ctx, 'user') }, { input: process.stdin, output: process.stdout });
      if (code !== 0) process.exitCode = code;
    },
  },
};
