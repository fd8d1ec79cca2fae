import { ScaiError } from '@scaibunker/contracts';
import type { UsageReport } from '@scaibunker/sdk';
import { printJson, printTable } from '../output.js';
import { oneOf, str } from './command-args.js';
import type { Command } from './platform.js';

/** A `--from`/`--to` value: an ISO timestamp or date, as the API takes it. */
function instant(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ScaiError('VALIDATION_ERROR', `--${flag} must be a date or timestamp (e.g. 2026-12-01 or 2026-12-01T12:00:00Z), got "${value}".`);
  return new Date(ms).toISOString();
}

const hours = (seconds: number) => (seconds / 3600).toFixed(3);

/** One line per row: who, then running and paused time and what was held, in hours. */
function rowsOf(report: UsageReport): Record<string, unknown>[] {
  return report.rows.map((r) => ({
    tenant: r.tenant_id, user: r.user_id ?? '', bunker: r.bunker_id ?? '',
    running_h: hours(r.running.seconds), cpu_core_h: hours(r.running.cpu_millicore_seconds / 1000), memory_gb_h: hours(r.running.memory_mb_seconds / 1024),
    disk_gb_h: hours(r.running.disk_mb_seconds / 1024), gpu_h: hours(r.running.gpu_seconds), paused_h: hours(r.paused.seconds),
  }));
}

/** `scaibunker usage`: accounting over a period. */
export const USAGE_COMMANDS: Record<string, Command> = {
  usage: {
    usage: 'usage [--from DATE] [--to DATE] [--by bunker|user|tenant] [--tenant ten_…] [--user usr_…] [--bunker bnk_…]   (default: this month so far, per bunker; hours; --json for seconds)',
    flags: { from: { type: 'string' }, to: { type: 'string' }, by: { type: 'string' }, tenant: { type: 'string' }, user: { type: 'string' }, bunker: { type: 'string' } },
    run: async (ctx) => {
      const from = instant(str(ctx, 'from'), 'from');
      const to = instant(str(ctx, 'to'), 'to');
      const by = oneOf(ctx, 'by', ['bunker', 'user', 'tenant'] as const);
      const tenant = str(ctx, 'tenant');
      const user = str(ctx, 'user');
      const bunker = str(ctx, 'bunker');
      const report = await ctx.client().usage({
        ...(from ? { from } : {}), ...(to ? { to } : {}), ...(by ? { group_by: by } : {}),
        ...(tenant ? { tenant_id: tenant } : {}), ...(user ? { user_id: user } : {}), ...(bunker ? { bunker_id: bunker } : {}),
      });
      if (ctx.json) return printJson(report);
      process.stdout.write(`${report.from} → ${report.to}, per ${report.group_by}\n`);
      const columns = report.group_by === 'tenant' ? ['tenant'] : report.group_by === 'user' ? ['tenant', 'user'] : ['user', 'bunker'];
      printTable(rowsOf(report), [...columns, 'running_h', 'cpu_core_h', 'memory_gb_h', 'disk_gb_h', 'gpu_h', 'paused_h'], false);
    },
  },
};
