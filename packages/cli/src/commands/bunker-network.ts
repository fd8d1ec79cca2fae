import { ScaiError, type BunkerNetwork, type EgressFlow, type NetworkDenial } from '@scaibunker/contracts';
import { printJson, printRecord, printTable, writeAll } from '../output.js';
import { arg, page, PAGE_FLAGS } from './command-args.js';
import type { Command, CommandContext } from './platform.js';

/** DNS query types by number, for the ones a guest asks for most. */
const DNS_TYPES: Record<number, string> = { 1: 'A', 5: 'CNAME', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS' };

/** An address and port as `addr:port` (`[v6]:port`), or the address alone when the protocol has no ports. */
function endpoint(address: string | undefined, port: number | null | undefined): string {
  const shown = address ?? '?';
  if (port === null || port === undefined) return shown;
  return shown.includes(':') ? `[${shown}]:${port}` : `${shown}:${port}`;
}

/** What a refusal refused: the name and query type, or the connection's protocol and endpoints. */
export function deniedWhat(denial: NetworkDenial): string {
  if (denial.kind === 'dns') {
    const type = denial.type === undefined ? '' : ` (${DNS_TYPES[denial.type] ?? `type ${denial.type}`})`;
    return `${denial.name ?? '?'}${type}`;
  }
  return `${denial.protocol ?? '?'} ${denial.source ?? '?'} → ${endpoint(denial.destination, denial.port)}`;
}

/** One flow as one line: start, protocol, src:sport → dst:dport, bytes each way, DNS name, verdict. */
export function flowLine(flow: EgressFlow): string {
  return [
    flow.start, flow.protocol, `${endpoint(flow.src, flow.sport)} → ${endpoint(flow.dst, flow.dport)}`,
    `out ${flow.bytes_out} B`, `in ${flow.bytes_in} B`, flow.dns_name ?? '-', flow.verdict,
  ].join('  ');
}

/** The network as text: its settings and guest, the refusal counts, then the recent refusals, oldest first. */
function printNetwork(network: BunkerNetwork): void {
  const { profile, allowlist, bandwidth_mbit, guest, denied } = network;
  printRecord({
    profile, allowlist, bandwidth_mbit, address: guest?.address, gateway: guest?.gateway, mac: guest?.mac,
    denied_names: denied?.names, denied_connections: denied?.connections,
  }, false);
  if (network.recent_denials.length === 0) return;
  process.stdout.write('\n');
  printTable(network.recent_denials.map((d) => ({ at: d.at, kind: d.kind, denied: deniedWhat(d) })), ['at', 'kind', 'denied'], false);
}

/** The flows asked for: one page (`--limit`, `--cursor`), or with `--all` every flow from the start. */
async function* flowsOf(ctx: CommandContext, id: string): AsyncGenerator<EgressFlow> {
  const options = page(ctx);
  if (ctx.flags.all && options.cursor) throw new ScaiError('VALIDATION_ERROR', '--all reads from the first flow: give --all or --cursor, not both.');
  const client = ctx.client();
  if (ctx.flags.all) {
    yield* client.all((o) => client.bunkers.egressAudit(id, o), options.limit);
    return;
  }
  const result = await client.bunkers.egressAudit(id, options);
  yield* result.data;
  if (!ctx.json && result.next_cursor) process.stderr.write(`more: --cursor ${result.next_cursor}  (or --all)\n`);
}

/** `scaibunker bunker network | egress-audit`: what a bunker's network is, was refused, and carried. */
export const BUNKER_NETWORK_COMMANDS: Record<string, Command> = {
  'bunker network': {
    usage: 'bunker network <bunker_id>   (profile, guest MAC and address, refusal counts and the recent refusals: DNS names, dropped connections)',
    run: async (ctx) => {
      const network = await ctx.client().bunkers.network(arg(ctx, 0, 'bunker_id'));
      if (ctx.json) return printJson(network);
      printNetwork(network);
    },
  },
  'bunker egress-audit': {
    usage: 'bunker egress-audit <bunker_id> [--limit N] [--cursor C] [--all]   (one line per flow, in time order; --json: one JSON flow per line)',
    flags: { ...PAGE_FLAGS, all: { type: 'boolean' } },
    run: async (ctx) => {
      const id = arg(ctx, 0, 'bunker_id');
      let count = 0;
      for await (const flow of flowsOf(ctx, id)) {
        await writeAll(process.stdout, `${ctx.json ? JSON.stringify(flow) : flowLine(flow)}\n`);
        count++;
      }
      if (!ctx.json && count === 0) process.stderr.write('No flows recorded (only bunkers with egress_audit on have them).\n');
    },
  },
};
