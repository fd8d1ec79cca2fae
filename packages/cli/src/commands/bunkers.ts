import { BUNKER_STATUS_VALUES, LIFECYCLE_MODE_VALUES, ScaiError, type Bunker } from '@scaibunker/contracts';
import { printRecord, printTable } from '../output.js';
import { arg, keyValues, oneOf, page, PAGE_FLAGS, positiveInt, str } from './command-args.js';
import { NETWORK_FLAGS, NETWORK_USAGE, networkFields } from './network-flags.js';
import type { Command, CommandContext } from './platform.js';
import { withProgress } from './progress.js';

const LIST_COLUMNS = ['id', 'name', 'image', 'status', 'lifecycle_mode', 'memory_mb', 'cpu_millicores', 'worker_id', 'created_at'];

const CREATE_FLAGS = {
  image: { type: 'string' }, name: { type: 'string' }, memory: { type: 'string' }, cpu: { type: 'string' }, disk: { type: 'string' },
  lifecycle: { type: 'string' }, env: { type: 'string', multiple: true }, label: { type: 'string', multiple: true },
  'max-lifetime': { type: 'string' }, 'idle-timeout': { type: 'string' }, ...NETWORK_FLAGS,
} as const;

/** The short form printed after a lifecycle verb: what changed, not every field. */
function printSummary(bunker: Bunker, json: boolean): void {
  if (json) return printRecord(bunker, true);
  const { id, status, last_activity_at, expires_at, failure_reason } = bunker;
  printRecord({ id, status, last_activity_at, expires_at, ...(failure_reason ? { failure_reason } : {}) }, false);
}

function createBody(ctx: CommandContext) {
  const image = str(ctx, 'image');
  if (!image) throw new ScaiError('VALIDATION_ERROR', 'Missing --image NAME (e.g. --image minimal).');
  const name = str(ctx, 'name');
  const memory = positiveInt(ctx, 'memory');
  const cpu = positiveInt(ctx, 'cpu');
  const disk = positiveInt(ctx, 'disk');
  const lifecycle = oneOf(ctx, 'lifecycle', LIFECYCLE_MODE_VALUES);
  const env = keyValues(ctx, 'env');
  const labels = keyValues(ctx, 'label');
  const maxLifetime = positiveInt(ctx, 'max-lifetime');
  const idleTimeout = positiveInt(ctx, 'idle-timeout');
  const network = networkFields(ctx);
  return {
    image,
    ...(name ? { name } : {}), ...(memory ? { memory_mb: memory } : {}), ...(cpu ? { cpu_millicores: cpu } : {}),
    ...(disk ? { disk_mb: disk } : {}), ...(lifecycle ? { lifecycle_mode: lifecycle } : {}), ...(env ? { env_vars: env } : {}),
    ...(labels ? { label_set: labels } : {}), ...(maxLifetime ? { max_lifetime_s: maxLifetime } : {}),
    ...(idleTimeout ? { idle_timeout_s: idleTimeout } : {}), ...network,
  };
}

/** `scaibunker bunker …`: create, list, read, remove, pause, resume and keep bunkers alive. */
export const BUNKER_COMMANDS: Record<string, Command> = {
  'bunker create': {
    usage: 'bunker create --image NAME [--name N] [--memory MB] [--cpu MILLICORES] [--disk MB] '
      + `[--lifecycle ${LIFECYCLE_MODE_VALUES.join('|')}] [--env K=V …] [--label K=V …] [--max-lifetime S] [--idle-timeout S] `
      + `${NETWORK_USAGE}   (answers once it runs; exits 1 if it failed to start)`,
    flags: CREATE_FLAGS,
    run: async (ctx) => {
      const body = createBody(ctx);
      const bunker = await withProgress('creating bunker', () => ctx.client().bunkers.create(body));
      printRecord(bunker, ctx.json);
      // The API answers a bunker that could not start with 201 and status failed: a script must see it in the exit code.
      if (bunker.status === 'failed') {
        process.stderr.write(`scaibunker: bunker ${bunker.id} failed: ${bunker.failure_reason ?? 'no reason given'}\n`);
        process.exitCode = 1;
      }
    },
  },
  'bunker list': {
    usage: `bunker list [--status ${BUNKER_STATUS_VALUES.join('|')}] [--lifecycle MODE] [--limit N] [--cursor C]`,
    flags: { ...PAGE_FLAGS, status: { type: 'string' }, lifecycle: { type: 'string' } },
    run: async (ctx) => {
      const status = oneOf(ctx, 'status', BUNKER_STATUS_VALUES);
      const lifecycle = oneOf(ctx, 'lifecycle', LIFECYCLE_MODE_VALUES);
      const result = await ctx.client().bunkers.list({ ...page(ctx), ...(status ? { status } : {}), ...(lifecycle ? { lifecycle } : {}) });
      printTable(result.data, LIST_COLUMNS, ctx.json);
      if (!ctx.json && result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
  'bunker get': {
    usage: 'bunker get <bunker_id>',
    run: async (ctx) => printRecord(await ctx.client().bunkers.get(arg(ctx, 0, 'bunker_id')), ctx.json),
  },
  'bunker rm': {
    usage: 'bunker rm <bunker_id>   (ends it and frees its resources)',
    run: async (ctx) => printSummary(await ctx.client().bunkers.delete(arg(ctx, 0, 'bunker_id')), ctx.json),
  },
  'bunker pause': {
    usage: 'bunker pause <bunker_id>',
    run: async (ctx) => printSummary(await ctx.client().bunkers.pause(arg(ctx, 0, 'bunker_id')), ctx.json),
  },
  'bunker resume': {
    usage: 'bunker resume <bunker_id>',
    run: async (ctx) => printSummary(await ctx.client().bunkers.resume(arg(ctx, 0, 'bunker_id')), ctx.json),
  },
  'bunker keepalive': {
    usage: 'bunker keepalive <bunker_id>   (counts as activity: pushes the idle timeout back)',
    run: async (ctx) => printSummary(await ctx.client().bunkers.keepalive(arg(ctx, 0, 'bunker_id')), ctx.json),
  },
};
