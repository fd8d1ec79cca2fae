import { isPermissionKey, ROLES, ScaiError, type Role } from '@scaibunker/contracts';
import type { ScaiBunkerClient } from '@scaibunker/sdk';
import { printRecord, printTable } from '../output.js';
import { arg, page, PAGE_FLAGS, str } from './command-args.js';

/** What a command receives: its positionals, its parsed flags, and the API client. */
export interface CommandContext {
  args: string[];
  /** Flag values; a flag declared `multiple` gives an array. */
  flags: Record<string, string | boolean | string[] | boolean[] | undefined>;
  json: boolean;
  client: () => ScaiBunkerClient;
}

/** A CLI command: its flags (all take a value unless `boolean`; `multiple` ones repeat), usage line, and action. */
export interface Command {
  usage: string;
  flags?: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
  run(ctx: CommandContext): Promise<void>;
}

const USER_COLUMNS = ['id', 'email', 'role', 'tenant_id', 'disabled'];
const KEY_COLUMNS = ['id', 'name', 'user_id', 'expires_at', 'revoked_at', 'last_used_at'];

/** The platform commands: identity, tenancy, keys, modules, audit. */
export const PLATFORM_COMMANDS: Record<string, Command> = {
  health: {
    usage: 'health',
    run: async (ctx) => printRecord({ ...(await ctx.client().health()) }, ctx.json),
  },
  me: {
    usage: 'me',
    run: async (ctx) => {
      const me = await ctx.client().me();
      printRecord(ctx.json ? { ...me } : { user: me.user.id, email: me.user.email, role: me.role, tenant: `${me.tenant.slug} (${me.tenant.id})`, partner: me.partner_id, api_key: me.api_key_id, permissions: me.permissions }, ctx.json);
    },
  },
  'partner create': {
    usage: 'partner create <slug> [--name NAME]',
    flags: { name: { type: 'string' } },
    run: async (ctx) => {
      const slug = arg(ctx, 0, 'slug');
      printRecord(await ctx.client().partners.create({ slug, name: str(ctx, 'name') ?? slug }), ctx.json);
    },
  },
  'partner list': {
    usage: 'partner list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => printTable((await ctx.client().partners.list(page(ctx))).data, ['id', 'slug', 'name'], ctx.json),
  },
  'tenant create': {
    usage: 'tenant create <slug> [--name NAME] [--partner PARTNER_ID]',
    flags: { name: { type: 'string' }, partner: { type: 'string' } },
    run: async (ctx) => {
      const slug = arg(ctx, 0, 'slug');
      const partner = str(ctx, 'partner');
      printRecord(await ctx.client().tenants.create({ slug, name: str(ctx, 'name') ?? slug, ...(partner ? { partner_id: partner } : {}) }), ctx.json);
    },
  },
  'tenant list': {
    usage: 'tenant list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => printTable((await ctx.client().tenants.list(page(ctx))).data, ['id', 'slug', 'name', 'partner_id'], ctx.json),
  },
  'user create': {
    usage: `user create <email> [--name NAME] [--role ${ROLES.join('|')}] [--tenant TENANT_ID]`,
    flags: { name: { type: 'string' }, role: { type: 'string' }, tenant: { type: 'string' } },
    run: async (ctx) => {
      const email = arg(ctx, 0, 'email');
      const role = str(ctx, 'role');
      if (role && !(ROLES as readonly string[]).includes(role)) throw new ScaiError('VALIDATION_ERROR', `--role must be one of ${ROLES.join(', ')}.`);
      const tenant = str(ctx, 'tenant');
      const user = await ctx.client().users.create({
        email, display_name: str(ctx, 'name') ?? email, ...(role ? { role: role as Role } : {}), ...(tenant ? { tenant_id: tenant } : {}),
      });
      printRecord(user, ctx.json);
    },
  },
  'user list': {
    usage: 'user list [--tenant TENANT_ID] [--limit N] [--cursor C]',
    flags: { ...PAGE_FLAGS, tenant: { type: 'string' } },
    run: async (ctx) => {
      const tenant = str(ctx, 'tenant');
      printTable((await ctx.client().users.list({ ...page(ctx), ...(tenant ? { tenant_id: tenant } : {}) })).data, USER_COLUMNS, ctx.json);
    },
  },
  'user disable': {
    usage: 'user disable <user_id>   (also revokes their API keys)',
    run: async (ctx) => printRecord(await ctx.client().users.update(arg(ctx, 0, 'user_id'), { disabled: true }), ctx.json),
  },
  'user grant': {
    usage: 'user grant <user_id> <permission>',
    run: async (ctx) => {
      const key = arg(ctx, 1, 'permission');
      if (!isPermissionKey(key)) throw new ScaiError('VALIDATION_ERROR', `Unknown permission key "${key}".`);
      printRecord({ ...(await ctx.client().users.grant(arg(ctx, 0, 'user_id'), key)) }, ctx.json);
    },
  },
  'user permissions': {
    usage: 'user permissions <user_id>',
    run: async (ctx) => printRecord({ ...(await ctx.client().users.permissions(arg(ctx, 0, 'user_id'))) }, ctx.json),
  },
  'group create': {
    usage: 'group create <name> [--description TEXT]',
    flags: { description: { type: 'string' } },
    run: async (ctx) => {
      const description = str(ctx, 'description');
      printRecord(await ctx.client().groups.create({ name: arg(ctx, 0, 'name'), ...(description ? { description } : {}) }), ctx.json);
    },
  },
  'group list': {
    usage: 'group list [--limit N] [--cursor C]',
    flags: PAGE_FLAGS,
    run: async (ctx) => printTable((await ctx.client().groups.list(page(ctx))).data, ['id', 'name', 'member_user_ids', 'member_group_ids'], ctx.json),
  },
  'group add': {
    usage: 'group add <group_id> <usr_…|grp_…>',
    run: async (ctx) => {
      const member = arg(ctx, 1, 'member_id');
      const body = member.startsWith('grp_') ? { group_id: member } : { user_id: member };
      printRecord(await ctx.client().groups.addMember(arg(ctx, 0, 'group_id'), body), ctx.json);
    },
  },
  'api-key create': {
    usage: 'api-key create <name> [--user USER_ID] [--expires-in SECONDS]',
    flags: { user: { type: 'string' }, 'expires-in': { type: 'string' } },
    run: async (ctx) => {
      const user = str(ctx, 'user');
      const expires = str(ctx, 'expires-in');
      const key = await ctx.client().apiKeys.create({ name: arg(ctx, 0, 'name'), ...(user ? { user_id: user } : {}), ...(expires ? { expires_in_s: Number(expires) } : {}) });
      printRecord(key, ctx.json);
      if (!ctx.json) process.stderr.write('The secret is shown once; store it now.\n');
    },
  },
  'api-key list': {
    usage: 'api-key list [--user USER_ID] [--limit N] [--cursor C]',
    flags: { ...PAGE_FLAGS, user: { type: 'string' } },
    run: async (ctx) => {
      const user = str(ctx, 'user');
      printTable((await ctx.client().apiKeys.list({ ...page(ctx), ...(user ? { user_id: user } : {}) })).data, KEY_COLUMNS, ctx.json);
    },
  },
  'api-key revoke': {
    usage: 'api-key revoke <key_id>',
    run: async (ctx) => printRecord(await ctx.client().apiKeys.revoke(arg(ctx, 0, 'key_id')), ctx.json),
  },
  'module list': {
    usage: 'module list [--tenant TENANT_ID]',
    flags: { tenant: { type: 'string' } },
    run: async (ctx) => printTable(await ctx.client().modules.list(str(ctx, 'tenant')), ['id', 'name', 'enabled', 'disabled_by'], ctx.json),
  },
  'module enable': {
    usage: 'module enable <module_id> [--partner] [--target TENANT_OR_PARTNER_ID]',
    flags: { partner: { type: 'boolean' }, target: { type: 'string' } },
    run: async (ctx) => printRecord({ ...(await ctx.client().modules.enable(arg(ctx, 0, 'module_id'), moduleScope(ctx))) }, ctx.json),
  },
  'module disable': {
    usage: 'module disable <module_id> [--partner] [--target TENANT_OR_PARTNER_ID]',
    flags: { partner: { type: 'boolean' }, target: { type: 'string' } },
    run: async (ctx) => printRecord({ ...(await ctx.client().modules.disable(arg(ctx, 0, 'module_id'), moduleScope(ctx))) }, ctx.json),
  },
  audit: {
    usage: 'audit [--tenant TENANT_ID] [--action ACTION] [--limit N] [--cursor C]',
    flags: { ...PAGE_FLAGS, tenant: { type: 'string' }, action: { type: 'string' } },
    run: async (ctx) => {
      const tenant = str(ctx, 'tenant');
      const action = str(ctx, 'action');
      const result = await ctx.client().audit.list({ ...page(ctx), ...(tenant ? { tenant_id: tenant } : {}), ...(action ? { action } : {}) });
      printTable(result.data, ['at', 'action', 'outcome', 'status_code', 'actor_user_id', 'target_id', 'request_id'], ctx.json);
      if (!ctx.json && result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}\n`);
    },
  },
};

function moduleScope(ctx: CommandContext) {
  const target = str(ctx, 'target');
  return { scope: ctx.flags.partner ? ('partner' as const) : ('tenant' as const), ...(target ? { target_id: target } : {}) };
}
