import { NETWORK_PROFILE_VALUES, ScaiError, TransitInterface, type CreateBunkerBody } from '@scaibunker/contracts';
import { oneOf, str } from './command-args.js';
import type { CommandContext } from './platform.js';

/** The network fields of a create body. */
export type NetworkFields = Pick<CreateBunkerBody, 'network_profile' | 'network_allowlist' | 'bandwidth_mbit' | 'interfaces'>;
type Interface = NonNullable<CreateBunkerBody['interfaces']>[number];

/** The flags `bunker create` takes for its network. */
export const NETWORK_FLAGS = {
  network: { type: 'string' }, allow: { type: 'string', multiple: true }, bandwidth: { type: 'string' }, interface: { type: 'string', multiple: true },
} as const;

export const NETWORK_USAGE = `[--network ${NETWORK_PROFILE_VALUES.join('|')}] [--allow NAME …] [--bandwidth MBIT] `
  + '[--interface IF_NAME=BRIDGE[,mac=MAC][,spoof-guard=off] …]';

const MAX_BANDWIDTH_MBIT = 10_000;
const INTERFACE_FORM = 'IF_NAME=BRIDGE[,mac=MAC][,spoof-guard=on|off]';
// The API's own patterns: one source for what an interface name and a MAC may be.
const IF_NAME = new RegExp(TransitInterface.properties.if_name.pattern!);
const MAC = new RegExp(TransitInterface.properties.mac.pattern!);

/** The values of a repeatable string flag (none when not given). */
function strings(ctx: CommandContext, name: string): string[] {
  const raw = ctx.flags[name];
  return (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string');
}

/**
 * One `--interface` value: `eth1=lab`, then options as `,key=value`. Bridge names may be any
 * printable text: one with a comma in it can only be attached through the API.
 */
export function parseInterface(spec: string): Interface {
  const bad = (why: string) => new ScaiError('VALIDATION_ERROR', `--interface takes ${INTERFACE_FORM}, got "${spec}": ${why}.`);
  const [attachment = '', ...options] = spec.split(',');
  const at = attachment.indexOf('=');
  if (at <= 0 || at === attachment.length - 1) throw bad('name the interface and its bridge');
  const ifName = attachment.slice(0, at);
  if (!IF_NAME.test(ifName)) throw bad('IF_NAME is a lowercase letter then up to 14 lowercase letters or digits');
  const parsed: Interface = { if_name: ifName, bridge_name: attachment.slice(at + 1) };
  for (const option of options) {
    const [key, value = ''] = option.split('=', 2);
    if (key === 'mac') {
      // MACs are often written in upper case; the API stores them lower.
      const mac = value.toLowerCase();
      if (!MAC.test(mac)) throw bad('mac is six hex pairs joined by colons');
      parsed.mac = mac;
    } else if (key === 'spoof-guard') {
      if (value !== 'on' && value !== 'off') throw bad('spoof-guard is on or off');
      parsed.spoof_guard = value === 'on';
    } else {
      throw bad(`unknown option "${option}"`);
    }
  }
  return parsed;
}

/** `--bandwidth` in Mbit/s, within the API's range, if given. */
function bandwidthOf(ctx: CommandContext): number | undefined {
  const raw = str(ctx, 'bandwidth');
  if (raw === undefined) return undefined;
  const mbit = Number(raw);
  if (!/^\d+$/.test(raw) || mbit < 1 || mbit > MAX_BANDWIDTH_MBIT) {
    throw new ScaiError('VALIDATION_ERROR', `--bandwidth must be a whole number of Mbit/s from 1 to ${MAX_BANDWIDTH_MBIT}, got "${raw}".`);
  }
  return mbit;
}

/**
 * The network fields from `--network`, `--allow`, `--bandwidth` and `--interface`. Which
 * combinations a profile allows is the API's to say (it answers with the field at fault).
 */
export function networkFields(ctx: CommandContext): NetworkFields {
  const profile = oneOf(ctx, 'network', NETWORK_PROFILE_VALUES);
  const allowlist = strings(ctx, 'allow');
  const bandwidth = bandwidthOf(ctx);
  const interfaces = strings(ctx, 'interface').map(parseInterface);
  return {
    ...(profile ? { network_profile: profile } : {}), ...(allowlist.length > 0 ? { network_allowlist: allowlist } : {}),
    ...(bandwidth ? { bandwidth_mbit: bandwidth } : {}), ...(interfaces.length > 0 ? { interfaces } : {}),
  };
}
