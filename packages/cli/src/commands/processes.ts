import { ScaiError, type ProcessInfo } from '@scaibunker/contracts';
import { printJson, printRecord, printTable } from '../output.js';
import { arg, str } from './command-args.js';
import type { Command, CommandContext } from './platform.js';
import { printEvents } from './process-output.js';

/** A process as one table row: how it ended, or that it runs. */
function row(info: ProcessInfo): Record<string, unknown> {
  const { pid, argv, background, started_at, exit } = info;
  let status = 'running';
  if (exit?.timed_out) status = 'timed out';
  else if (exit?.signal) status = exit.signal;
  else if (exit) status = `exit ${exit.exit_code}`;
  return { pid, status, background, started_at, command: argv.join(' ') };
}

/** The pid positional, a positive integer. */
function pidArg(ctx: CommandContext, index: number): number {
  const raw = arg(ctx, index, 'pid');
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ScaiError('VALIDATION_ERROR', `<pid> must be a positive integer, got "${raw}".`);
  return Number(raw);
}

/** `--signal` as the API takes it: a number, or a name with or without its SIG prefix. */
function signalOf(ctx: CommandContext): string | number {
  const raw = str(ctx, 'signal') ?? 'SIGTERM';
  if (/^\d+$/.test(raw)) return Number(raw);
  const name = raw.toUpperCase();
  return name.startsWith('SIG') ? name : `SIG${name}`;
}

/** `scaibunker ps | logs | kill`: the processes started through exec in a bunker. */
export const PROCESS_COMMANDS: Record<string, Command> = {
  ps: {
    usage: 'ps <bunker_id>   (processes started through exec: running, and the last ones that ended)',
    run: async (ctx) => {
      const processes = await ctx.client().processes.list(arg(ctx, 0, 'bunker_id'));
      if (ctx.json) return printJson(processes);
      printTable(processes.map(row), ['pid', 'status', 'background', 'started_at', 'command'], false);
    },
  },
  logs: {
    usage: 'logs <bunker_id> <pid> [--follow]   (a process’s kept output; --follow streams the rest until it exits; --json prints the events)',
    flags: { follow: { type: 'boolean' } },
    run: async (ctx) => {
      const events = ctx.client().processes.output(arg(ctx, 0, 'bunker_id'), pidArg(ctx, 1), { follow: ctx.flags.follow === true });
      if (!ctx.json) {
        await printEvents(events);
        return;
      }
      for await (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
    },
  },
  kill: {
    usage: 'kill <bunker_id> <pid> [--signal SIGTERM|NAME|N]   (signals the process’s group)',
    flags: { signal: { type: 'string' } },
    run: async (ctx) => printRecord(await ctx.client().processes.signal(arg(ctx, 0, 'bunker_id'), pidArg(ctx, 1), signalOf(ctx)), ctx.json),
  },
};
