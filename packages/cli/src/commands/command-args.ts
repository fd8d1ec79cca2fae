import { ScaiError } from '@scaibunker/contracts';
import type { CommandContext } from './platform.js';

/** The positional at `index`, or a VALIDATION_ERROR naming it. */
export function arg(ctx: CommandContext, index: number, name: string): string {
  const value = ctx.args[index];
  if (!value) throw new ScaiError('VALIDATION_ERROR', `Missing <${name}>.`);
  return value;
}

/** A string flag's value, if given. */
export function str(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A flag that takes a positive integer, if given. */
export function positiveInt(ctx: CommandContext, name: string): number | undefined {
  const raw = str(ctx, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value <= 0) throw new ScaiError('VALIDATION_ERROR', `--${name} must be a positive integer.`);
  return value;
}

/** A flag restricted to a set of values, if given. */
export function oneOf<T extends string>(ctx: CommandContext, name: string, values: readonly T[]): T | undefined {
  const value = str(ctx, name);
  if (value !== undefined && !(values as readonly string[]).includes(value)) {
    throw new ScaiError('VALIDATION_ERROR', `--${name} must be one of ${values.join(', ')}.`);
  }
  return value as T | undefined;
}

/** A repeatable `--name KEY=VALUE` flag as a map, or undefined when not given. */
export function keyValues(ctx: CommandContext, name: string): Record<string, string> | undefined {
  const raw = ctx.flags[name];
  const pairs = (Array.isArray(raw) ? raw : [raw]).filter((p): p is string => typeof p === 'string');
  if (pairs.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ScaiError('VALIDATION_ERROR', `--${name} takes KEY=VALUE, got "${pair}".`);
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return map;
}

/** `--limit` and `--cursor` as list options. */
export function page(ctx: CommandContext): { limit?: number; cursor?: string } {
  const limit = positiveInt(ctx, 'limit');
  const cursor = str(ctx, 'cursor');
  return { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) };
}

/** The flags of every list command. */
export const PAGE_FLAGS = { limit: { type: 'string' }, cursor: { type: 'string' } } as const;
