import type { Worker } from '@scaibunker/contracts';
import { printJson, printRecord, printTable } from '../output.js';
import { arg, keyValues, page, PAGE_FLAGS } from './command-args.js';
import type { Command } from './platform.js';

/** A worker as one table row: capacity and what its bunkers use of it. */
function row(worker: Worker): Record<string, unknown> {
  const { id, name, status, accelerator, capacity, usage, last_heartbeat } = worker;
  return {
    id, name, status, accelerator, network: worker.network_ready ? 'yes' : 'no', bunkers: usage.bunkers,
    cpu: `${usage.cpu_millicores}/${capacity.cpu_millicores}m`, memory: `${usage.memory_mb}/${capacity.memory_mb} MB`, last_heartbeat,
  };
}

/** The whole worker as JSON, its table row as text. */
function printShort(worker: Worker, json: boolean): void {
  printRecord(json ? worker : row(worker), json);
}

/** `scaibunker worker …`: register, list, read, drain and resume the hosts that run bunkers (admins). */
export const WORKER_COMMANDS: Record<string, Command> = {
  'worker create': {
    usage: 'worker create <name> [--label K=V …]   (prints the worker token once)',
    flags: { label: { type: 'string', multiple: true } },
    run: async (ctx) => {
      const labels = keyValues(ctx, 'label');
      const worker = await ctx.client().workers.create({ name: arg(ctx, 0, 'name'), ...(labels ? { labels } : {}) });
      printRecord(worker, ctx.json);
      if (!ctx.json) {
        process.stderr.write('The token is shown once; store it now. On the worker host run:\n'
          + '  SCAIGRID_MODE=worker SCAIBUNKER_CONTROLLER_URL=<this API> SCAIBUNKER_WORKER_TOKEN=<token> npx scaibunker serve\n');
      }
    },
  },
  'worker list': {
    usage: 'worker list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => {
      const result = await ctx.client().workers.list(page(ctx));
      if (ctx.json) return printJson(result.data);
      printTable(result.data.map(row), ['id', 'name', 'status', 'accelerator', 'network', 'bunkers', 'cpu', 'memory', 'last_heartbeat'], false);
      if (result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
  'worker get': {
    usage: 'worker get <worker_id>',
    run: async (ctx) => printRecord(await ctx.client().workers.get(arg(ctx, 0, 'worker_id')), ctx.json),
  },
  'worker drain': {
    usage: 'worker drain <worker_id>   (no new placements; its running bunkers stay)',
    run: async (ctx) => printShort(await ctx.client().workers.drain(arg(ctx, 0, 'worker_id')), ctx.json),
  },
  'worker resume': {
    usage: 'worker resume <worker_id>',
    run: async (ctx) => printShort(await ctx.client().workers.resume(arg(ctx, 0, 'worker_id')), ctx.json),
  },
};
