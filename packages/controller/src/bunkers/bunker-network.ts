import { ScaiError, type BunkerInterface, type BunkerNetworkLaunch, type CreateBunkerBody, type EgressFlow } from '@scaibunker/contracts';
import { checkAllowlist, isUnicastMac, randomMac, type Actor } from '@scaibunker/core';
import type { BridgeRow, BunkerRow } from '@scaibunker/db';
import type { ObjectStore } from '@scaibunker/storage';

/**
 * A bunker's network as the API takes it and hands it on: the checks of a create's network
 * fields (spec §4, §6), what its worker is told, and its egress audit read back.
 */

/** The normalised allowlist of an allowlisted bunker (null for other profiles), or VALIDATION_ERROR with a detail per bad entry. */
export function checkNetworkAllowlist(network: string, allowlist: readonly string[] | undefined): string[] | null {
  if (network !== 'allowlisted') {
    if (allowlist !== undefined) throw new ScaiError('VALIDATION_ERROR', '`network_allowlist` goes with the allowlisted network profile only.', { details: [{ field: 'network_allowlist', message: `not allowed with the ${network} profile` }] });
    return null;
  }
  if (!allowlist?.length) throw new ScaiError('VALIDATION_ERROR', 'The allowlisted network profile needs a `network_allowlist`.', { details: [{ field: 'network_allowlist', message: 'required with the allowlisted profile: hostnames or *.domain wildcards' }] });
  const checked = checkAllowlist(allowlist);
  if (!checked.ok) {
    throw new ScaiError('VALIDATION_ERROR', `${checked.problems.length} network_allowlist ${checked.problems.length === 1 ? 'entry is' : 'entries are'} not a hostname or first-level wildcard.`, {
      details: checked.problems.map((p) => ({ field: `network_allowlist[${p.index}]`, message: p.reason })),
    });
  }
  return checked.entries;
}

/**
 * A transit bunker's interfaces, checked against the caller's own tenant's bridges (another
 * tenant's bridge is as unknown as a missing one), all on one worker, and the MACs already on
 * them (`taken`, per bridge id): names unique and not the guest's own (eth0, lo), MACs unique
 * and unicast and not another live bunker's on the bridge (a way past its spoof guard), one
 * generated when none is given; turning `spoof_guard` off needs scaibunker:l2_transparency.
 */
export function checkTransitInterfaces(
  actor: Actor, asked: NonNullable<CreateBunkerBody['interfaces']>, bridges: readonly BridgeRow[], taken: ReadonlyMap<string, ReadonlySet<string>>,
): { interfaces: BunkerInterface[]; workerId: string } {
  const details: { field: string; message: string }[] = [];
  const names = new Set<string>();
  const macs = new Set<string>();
  asked.forEach((i, index) => {
    const bridge = bridges.find((b) => b.name === i.bridge_name);
    if (!bridge) details.push({ field: `interfaces[${index}].bridge_name`, message: 'no bridge of this name in your tenant' });
    if (i.if_name === 'eth0' || i.if_name === 'lo') details.push({ field: `interfaces[${index}].if_name`, message: 'eth0 and lo are the guest’s own' });
    if (names.has(i.if_name)) details.push({ field: `interfaces[${index}].if_name`, message: 'used by another interface' });
    if (i.mac && macs.has(i.mac)) details.push({ field: `interfaces[${index}].mac`, message: 'used by another interface' });
    if (i.mac && !isUnicastMac(i.mac)) details.push({ field: `interfaces[${index}].mac`, message: 'a unicast MAC (its first byte even)' });
    if (i.mac && bridge && taken.get(bridge.id)?.has(i.mac)) details.push({ field: `interfaces[${index}].mac`, message: 'another live bunker has it on this bridge' });
    names.add(i.if_name);
    if (i.mac) macs.add(i.mac);
  });
  if (details.length > 0) throw new ScaiError('VALIDATION_ERROR', 'The transit interfaces cannot be attached as asked.', { details });
  const workers = new Set(bridges.map((b) => b.worker_id));
  if (workers.size > 1) {
    throw new ScaiError('VALIDATION_ERROR', 'A bunker’s bridges must all be on one worker.', { details: [{ field: 'interfaces', message: 'these bridges are on different workers' }] });
  }
  if (asked.some((i) => i.spoof_guard === false) && !actor.permissions.has('scaibunker:l2_transparency')) {
    throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'Turning spoof_guard off needs scaibunker:l2_transparency.');
  }
  const interfaces = asked.map((i) => {
    const bridge = bridges.find((b) => b.name === i.bridge_name)!;
    return { if_name: i.if_name, bridge_id: bridge.id, bridge_name: bridge.name, mac: i.mac ?? randomMac(), spoof_guard: i.spoof_guard !== false };
  });
  return { interfaces, workerId: [...workers][0]! };
}

/** What the worker builds a networked bunker's network from. */
export function networkLaunchOf(bunker: BunkerRow): BunkerNetworkLaunch {
  return {
    profile: bunker.network_profile as BunkerNetworkLaunch['profile'],
    ...(bunker.network_allowlist ? { allowlist: JSON.parse(bunker.network_allowlist) as string[] } : {}),
    ...(bunker.bandwidth_mbit ? { bandwidthMbit: bunker.bandwidth_mbit } : {}),
    ...(bunker.egress_audit === 1 ? { egressAudit: true } : {}),
    ...(bunker.interfaces ? {
      interfaces: (JSON.parse(bunker.interfaces) as BunkerInterface[]).map((i) => ({ ifName: i.if_name, bridgeId: i.bridge_id, mac: i.mac, spoofGuard: i.spoof_guard })),
    } : {}),
  };
}

/**
 * A page of a bunker's egress audit, in time order: the flows its worker wrote as NDJSON
 * batches under `scaibunker/audit/{bunker_id}/`. The cursor names the batch and line to
 * resume at, so pages stay stable as new batches arrive.
 */
export async function readEgressAudit(store: ObjectStore, bunkerId: string, limit: number, cursor: string | undefined): Promise<{ flows: EgressFlow[]; nextCursor: string | null }> {
  const at = cursor === undefined ? undefined : decodeAuditCursor(cursor);
  const keys = (await store.list(`scaibunker/audit/${bunkerId}/`)).filter((key) => at === undefined || key >= at.key);
  const flows: EgressFlow[] = [];
  for (const key of keys) {
    const lines = ((await store.get(key))?.toString('utf8') ?? '').split('\n').filter(Boolean);
    for (let line = key === at?.key ? at.line : 0; line < lines.length; line++) {
      if (flows.length === limit) return { flows, nextCursor: encodeAuditCursor({ key, line }) };
      flows.push(JSON.parse(lines[line]!) as EgressFlow);
    }
  }
  return { flows, nextCursor: null };
}

function encodeAuditCursor(position: { key: string; line: number }): string {
  return Buffer.from(JSON.stringify([position.key, position.line])).toString('base64url');
}

function decodeAuditCursor(cursor: string): { key: string; line: number } {
  try {
    const [key, line] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof key === 'string' && Number.isInteger(line) && (line as number) >= 0) return { key, line: line as number };
  } catch {
    // refused below
  }
  throw new ScaiError('VALIDATION_ERROR', 'Not a cursor of this list.', { details: [{ field: 'cursor', message: 'pass next_cursor of the previous page as it was' }] });
}
