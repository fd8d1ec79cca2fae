import { QUOTA_MODE_VALUES, ScaiError, type QuotaProfile, type QuotaUsageRow } from '@scaibunker/contracts';
import { printJson, printRecord, printTable } from '../output.js';
import { arg, oneOf, page, PAGE_FLAGS, str } from './command-args.js';
import type { Command, CommandContext } from './platform.js';

type CapField = Exclude<keyof QuotaProfile, 'id' | 'tenant_id' | 'name' | 'description' | 'created_at' | 'updated_at'>;

/** Each cap flag, the profile field it sets, and its unit for messages and usage lines. */
const CAPS: ReadonlyArray<{ flag: string; field: CapField; unit: string }> = [
  { flag: 'max-bunkers', field: 'max_concurrent_bunkers', unit: 'N' },
  { flag: 'max-persistent', field: 'max_persistent_bunkers', unit: 'N' },
  { flag: 'max-cpu', field: 'max_cpu_millicores', unit: 'MILLICORES' },
  { flag: 'max-memory', field: 'max_memory_mb', unit: 'MB' },
  { flag: 'max-disk', field: 'max_disk_mb', unit: 'MB' },
  { flag: 'max-gpu', field: 'max_gpu_count', unit: 'N' },
  { flag: 'per-bunker-cpu', field: 'per_bunker_max_cpu', unit: 'MILLICORES' },
  { flag: 'per-bunker-memory', field: 'per_bunker_max_memory', unit: 'MB' },
  { flag: 'per-bunker-disk', field: 'per_bunker_max_disk', unit: 'MB' },
  { flag: 'per-bunker-gpu', field: 'per_bunker_max_gpu', unit: 'N' },
];

const CAP_FLAGS = Object.fromEntries(CAPS.map((c) => [c.flag, { type: 'string' }])) as Record<string, { type: 'string' }>;
const CAP_USAGE = CAPS.map((c) => `[--${c.flag} ${c.unit}]`).join(' ');
const NO_CAP = 'none';

const ASSIGNMENT_COLUMNS = ['id', 'target_kind', 'target_id', 'mode', 'created_at'];
const PROFILE_COLUMNS = ['id', 'name', 'scope', 'bunkers', 'persistent', 'cpu_millicores', 'memory_mb', 'disk_mb', 'gpu'];
const RESOURCES = ['bunkers', 'persistent_bunkers', 'cpu_millicores', 'memory_mb', 'disk_mb', 'gpu_count'] as const;

/** The cap flags given, as profile fields: a whole number, or null for "none" (no cap). */
function capsOf(ctx: CommandContext): Partial<Record<CapField, number | null>> {
  const caps: Partial<Record<CapField, number | null>> = {};
  for (const { flag, field, unit } of CAPS) {
    const raw = str(ctx, flag);
    if (raw === undefined) continue;
    if (raw === NO_CAP) {
      caps[field] = null;
      continue;
    }
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
      throw new ScaiError('VALIDATION_ERROR', `--${flag} must be a whole number (${unit}) or "${NO_CAP}" for no cap, got "${raw}".`);
    }
    caps[field] = value;
  }
  return caps;
}

const shownCap = (cap: number | null) => (cap === null ? '∞' : String(cap));

/** A profile as one table row: where it applies and its totals (∞ where uncapped). */
function row(profile: QuotaProfile): Record<string, unknown> {
  return {
    id: profile.id, name: profile.name, scope: profile.tenant_id ?? 'platform',
    bunkers: shownCap(profile.max_concurrent_bunkers), persistent: shownCap(profile.max_persistent_bunkers),
    cpu_millicores: shownCap(profile.max_cpu_millicores), memory_mb: shownCap(profile.max_memory_mb),
    disk_mb: shownCap(profile.max_disk_mb), gpu: shownCap(profile.max_gpu_count),
  };
}

/** The whole profile as JSON; as text, with "platform" and "none" where the API says null. */
function printProfile(profile: QuotaProfile, json: boolean): void {
  if (json) return printRecord(profile, true);
  const caps = Object.fromEntries(CAPS.map(({ field }) => [field, profile[field] ?? NO_CAP]));
  printRecord({ ...profile, tenant_id: profile.tenant_id ?? 'platform', ...caps }, false);
}

/** One usage row as text: the profile and bucket, then each resource as used/cap (headroom). */
function printUsage(usage: QuotaUsageRow): void {
  printRecord({ profile: `${usage.profile_name} (${usage.profile_id})`, bucket: usage.bucket }, false);
  printTable(RESOURCES.map((resource) => {
    const headroom = usage.headroom[resource];
    return { resource, 'used/cap': `${usage.usage[resource]}/${shownCap(usage.cap[resource])}${headroom === null ? '' : ` (${headroom} left)`}` };
  }), ['resource', 'used/cap'], false);
}

/** `--user` or `--group` (exactly one) as an assignment target. */
function targetOf(ctx: CommandContext): { target_kind: 'user' | 'group'; target_id: string } {
  const user = str(ctx, 'user');
  const group = str(ctx, 'group');
  if ((user === undefined) === (group === undefined)) throw new ScaiError('VALIDATION_ERROR', 'Give exactly one of --user USER_ID or --group GROUP_ID.');
  return user !== undefined ? { target_kind: 'user', target_id: user } : { target_kind: 'group', target_id: group! };
}

/** `scaibunker quota …`: quota profiles, their assignments to users and groups, and usage against them. */
export const QUOTA_COMMANDS: Record<string, Command> = {
  'quota create': {
    usage: `quota create <name> [--platform] [--description TEXT] ${CAP_USAGE}   (in your tenant; --platform: a platform profile, assignable in any tenant)`,
    flags: { ...CAP_FLAGS, platform: { type: 'boolean' }, description: { type: 'string' } },
    run: async (ctx) => {
      const name = arg(ctx, 0, 'name');
      const description = str(ctx, 'description');
      const body = { name, ...(description !== undefined ? { description } : {}), ...(ctx.flags.platform ? { tenant_id: null } : {}), ...capsOf(ctx) };
      printProfile(await ctx.client().quotas.createProfile(body), ctx.json);
    },
  },
  'quota list': {
    usage: 'quota list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => {
      const result = await ctx.client().quotas.listProfiles(page(ctx));
      if (ctx.json) return printJson(result.data);
      printTable(result.data.map(row), PROFILE_COLUMNS, false);
      if (result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
  'quota get': {
    usage: 'quota get <profile_id>',
    run: async (ctx) => printProfile(await ctx.client().quotas.getProfile(arg(ctx, 0, 'profile_id')), ctx.json),
  },
  'quota set': {
    usage: `quota set <profile_id> [--name NAME] [--description TEXT] ${CAP_USAGE}   (a cap of "${NO_CAP}" removes it; applies to the next create)`,
    flags: { ...CAP_FLAGS, name: { type: 'string' }, description: { type: 'string' } },
    run: async (ctx) => {
      const id = arg(ctx, 0, 'profile_id');
      const name = str(ctx, 'name');
      const description = str(ctx, 'description');
      const body = { ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), ...capsOf(ctx) };
      if (Object.keys(body).length === 0) throw new ScaiError('VALIDATION_ERROR', 'Nothing to change: give --name, --description or a cap flag.');
      printProfile(await ctx.client().quotas.updateProfile(id, body), ctx.json);
    },
  },
  'quota rm': {
    usage: 'quota rm <profile_id>   (and its assignments; running bunkers keep what they were charged)',
    run: async (ctx) => printProfile(await ctx.client().quotas.deleteProfile(arg(ctx, 0, 'profile_id')), ctx.json),
  },
  'quota assign': {
    usage: `quota assign <profile_id> --user USER_ID | --group GROUP_ID [--mode ${QUOTA_MODE_VALUES.join('|')}]   (user: individual; group: shared by default)`,
    flags: { user: { type: 'string' }, group: { type: 'string' }, mode: { type: 'string' } },
    run: async (ctx) => {
      const id = arg(ctx, 0, 'profile_id');
      const target = targetOf(ctx);
      const mode = oneOf(ctx, 'mode', QUOTA_MODE_VALUES);
      printRecord(await ctx.client().quotas.assign(id, { ...target, ...(mode ? { mode } : {}) }), ctx.json);
    },
  },
  'quota assignments': {
    usage: 'quota assignments <profile_id> [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => {
      const result = await ctx.client().quotas.listAssignments(arg(ctx, 0, 'profile_id'), page(ctx));
      printTable(result.data, ASSIGNMENT_COLUMNS, ctx.json);
      if (!ctx.json && result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
  'quota unassign': {
    usage: 'quota unassign <profile_id> <assignment_id>',
    run: async (ctx) => printRecord(await ctx.client().quotas.unassign(arg(ctx, 0, 'profile_id'), arg(ctx, 1, 'assignment_id')), ctx.json),
  },
  'quota usage': {
    usage: 'quota usage [--user USER_ID]   (each profile that applies: its bucket, used/cap (headroom) per resource)',
    flags: { user: { type: 'string' } },
    run: async (ctx) => {
      const user = str(ctx, 'user');
      const rows = await ctx.client().quotas.usage(user !== undefined ? { userId: user } : {});
      if (ctx.json) return printJson(rows);
      if (rows.length === 0) process.stderr.write('No quota profile applies.\n');
      rows.forEach((usage, index) => {
        if (index > 0) process.stdout.write('\n');
        printUsage(usage);
      });
    },
  },
};
