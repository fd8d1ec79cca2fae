import { printJson, printRecord, printTable } from '../output.js';
import { arg, page, PAGE_FLAGS, str } from './command-args.js';
import type { Command } from './platform.js';

const COLUMNS = ['id', 'name', 'worker_id', 'created_by', 'created_at'];

/** `scaibunker bridge …`: a tenant's L2 bridges, that transit bunkers attach interfaces to (`bunker create --interface eth1=NAME`). */
export const BRIDGE_COMMANDS: Record<string, Command> = {
  'bridge create': {
    usage: 'bridge create <name> [--worker WORKER_ID]   (on that worker, or the online one with the most free memory; its transit bunkers run there)',
    flags: { worker: { type: 'string' } },
    run: async (ctx) => {
      const name = arg(ctx, 0, 'name');
      const worker = str(ctx, 'worker');
      printRecord(await ctx.client().bridges.create({ name, ...(worker ? { worker_id: worker } : {}) }), ctx.json);
    },
  },
  'bridge list': {
    usage: 'bridge list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => {
      const result = await ctx.client().bridges.list(page(ctx));
      if (ctx.json) return printJson(result.data);
      printTable(result.data, COLUMNS, false);
      if (result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
  'bridge get': {
    usage: 'bridge get <bridge_id>',
    run: async (ctx) => printRecord(await ctx.client().bridges.get(arg(ctx, 0, 'bridge_id')), ctx.json),
  },
  'bridge rm': {
    usage: 'bridge rm <bridge_id>   (only once no live bunker is attached to it)',
    run: async (ctx) => printRecord(await ctx.client().bridges.delete(arg(ctx, 0, 'bridge_id')), ctx.json),
  },
};
