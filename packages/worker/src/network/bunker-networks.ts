import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScaiError, type BunkerNetworkLaunch } from '@scaibunker/contracts';
import { randomMac } from '@scaibunker/core';
import { MAX_SLOTS, slotAddresses, type SlotAddresses } from './addressing.js';
import { addNetns, deleteNetns, ipBatch, killStrays, listNetns, loadRuleset, netnsPath, netnsTag, runIn } from './netns.js';
import { bandwidthQdiscs, bunkerRuleset, GUEST_DEVICE, LINK_DEVICE, uplinkRuleset } from './rulesets.js';
import { TransitBridges, type TransitPort } from './transit-bridges.js';
import { runCommand } from '../host/run-command.js';
import type { ObjectStore } from '@scaibunker/storage';
import { DenyLogReader, type ConnectionDenial } from './deny-log.js';
import { AUDIT_SYSCTLS, AuditBatches, FlowAuditor } from './flow-audit.js';
import type { InterceptorCommand, InterceptorReport } from './dns-interceptor-process.js';
import type { InterceptPolicy } from './dns-interceptor.js';
import { ResolverProcess } from './resolver-process.js';

/**
 * What the `registry` profile reaches by default (worker configuration:
 * SCAIBUNKER_NETWORK_REGISTRIES): PyPI, npm, crates.io, Maven Central, RubyGems, the Hugging
 * Face Hub, and Debian's mirrors standing in for the platform's apt mirror.
 */
export const DEFAULT_REGISTRIES = [
  'pypi.org', 'files.pythonhosted.org',
  'registry.npmjs.org',
  'crates.io', 'index.crates.io', 'static.crates.io',
  'repo.maven.apache.org', 'repo1.maven.org',
  'rubygems.org', 'index.rubygems.org',
  'huggingface.co', '*.huggingface.co', '*.hf.co',
  'deb.debian.org', 'security.debian.org',
];

/** The worker's resolver listens here, in the uplink namespace (SCAIBUNKER_NETWORK_DNS_PORT). */
export const DEFAULT_DNS_PORT = 10053;

/** How many refusals a bunker keeps for its network status (the counters count them all). */
const RECENT_DENIALS = 200;

/** One refusal: a name the resolver would not resolve, or a packet the firewall refused. */
export type NetworkDenial = { kind: 'dns'; at: string; name: string; type: number } | ({ kind: 'connection' } & ConnectionDenial);

/** What a bunker's network did, for `GET /bunkers/{id}/network`. */
export interface NetworkStatus {
  profile: BunkerNetworkLaunch['profile'];
  mac: string;
  address: string;
  gateway: string;
  denied: { names: number; connections: number };
  recent_denials: NetworkDenial[];
}

/** Where a worker's bunkers reach the outside. */
export interface BunkerNetworkOptions {
  /** Keeps which bunker holds which slot, so a restarted worker knows its namespaces again. */
  stateDir: string;
  /**
   * The named network namespace the bunkers' traffic leaves through (the veth pairs' outer
   * ends, the NAT and the resolver live there). Unset: the worker's own namespace, i.e. the
   * host's uplink. Tests set a namespace of their own (a fake internet), so no guest ever
   * reaches the machine's real network.
   */
  uplinkNetns?: string | undefined;
  /** The resolver the worker's own resolver asks (what guests ask goes to the worker's first). */
  dnsUpstream: { address: string; port: number };
  /** The port the worker's resolver listens on in the uplink namespace (default 10053; one worker per uplink namespace). */
  dnsPort?: number | undefined;
  /** Names the `registry` profile reaches (default DEFAULT_REGISTRIES). */
  registries?: readonly string[] | undefined;
  /** Told of every refusal (the worker logs them). */
  onDenial?: ((bunkerId: string, denial: NetworkDenial) => void) | undefined;
  /** Where audited bunkers' flow batches go (the storage interface snapshots use too); without it, no audit. */
  auditStore?: ObjectStore | undefined;
  /** How long flows wait in memory before their batch is written (default 5 s; also at 500 flows, and when the bunker ends). */
  auditFlushMs?: number | undefined;
  /** Told when a batch cannot be written. */
  onAuditError?: ((bunkerId: string, error: unknown) => void) | undefined;
  /** What the worker should log (its resolver restarting, say). */
  log?: ((message: string) => void) | undefined;
}

/** Names a bunker's guest resolved, per address, kept for its egress audit (the last ones). */
const NAMES_KEPT = 4096;

/** A bunker's network as its VM needs it. */
export interface AttachedNetwork {
  bunkerId: string;
  slot: number;
  /** The namespace's name, and the file the VMM's jailer joins. */
  netns: string;
  netnsPath: string;
  /** The tap device QEMU opens inside the namespace. */
  tap: string;
  mac: string;
  addresses: SlotAddresses;
  /** The guest's settings for the agent's `identity` (MAC, address, gateway, resolver). */
  guestConfig: string;
  /** Transit NICs: taps in their bridges' namespaces, and the guest's names for them (the agent's `NICS`). */
  transit: TransitPort[];
  transitConfig: string | undefined;
}

interface SlotRecord {
  slot: number;
  mac: string;
  policy: BunkerNetworkLaunch;
}

/** What a running bunker's network counted since this worker process started (or adopted it). */
interface BunkerActivity {
  denied: { names: number; connections: number };
  recent: NetworkDenial[];
  denyLog?: DenyLogReader | undefined;
  auditor?: FlowAuditor | undefined;
  /** address → the name it was resolved from (audited bunkers). */
  names: Map<string, string>;
}

/**
 * The network of every networked bunker on one worker: its own namespace holding the tap
 * its VM uses and one end of a veth pair whose other end is in the uplink namespace, routed
 * and masqueraded out; its nftables ruleset is loaded with the namespace, in one
 * transaction. Everything a bunker has lives in its namespace, so deleting the namespace
 * removes it all, and a worker restarted after a crash deletes every namespace of its own
 * whose bunker no longer runs (`reconcile`).
 */
export class BunkerNetworks {
  private readonly records = new Map<string, SlotRecord>();
  private readonly activity = new Map<string, BunkerActivity>();
  private resolver: ResolverProcess | undefined;
  /** Namespaces of this worker are `sb-<tag>-<bunker id>` and `sbbr-<tag>-<bridge id>`: several workers may share a host. */
  private readonly prefix: string;
  /** Transit bridges and the bunkers' ports on them. */
  readonly bridges: TransitBridges;

  private constructor(private readonly options: BunkerNetworkOptions) {
    const tag = netnsTag(options.stateDir);
    this.prefix = `sb-${tag}-`;
    this.bridges = new TransitBridges(`sbbr-${tag}-`);
  }

  /**
   * Sets up the uplink (forwarding, the worker's table), starts the worker's resolver there,
   * and takes back the slots a previous process held (their bunkers' resolver policies too).
   */
  static async open(options: BunkerNetworkOptions): Promise<BunkerNetworks> {
    const networks = new BunkerNetworks(options);
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    await runIn(options.uplinkNetns, 'sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
    await loadRuleset(options.uplinkNetns, uplinkRuleset(networks.dnsPort));
    networks.resolver = new ResolverProcess({
      netns: options.uplinkNetns, port: networks.dnsPort, upstream: options.dnsUpstream,
      onReport: (report) => networks.onResolverReport(report),
      // A restarted resolver knows nothing: every bunker's policy again.
      onStarted: () => { for (const [bunkerId, record] of networks.records) networks.tellResolver(networks.describe(bunkerId, record), record.policy); },
      log: (message) => options.log?.(message),
    });
    await networks.resolver.start();
    try {
      for (const file of await readdir(options.stateDir)) {
        if (!file.endsWith('.json')) continue;
        const record = await readFile(join(options.stateDir, file), 'utf8').then((text) => JSON.parse(text) as SlotRecord, () => undefined);
        if (record?.policy) networks.records.set(file.slice(0, -'.json'.length), record);
      }
      // The previous process's readers and listeners, if it was killed, before this one's start.
      await killStrays([...networks.records.keys()].map((bunkerId) => networks.netnsOf(bunkerId)), ['tcpdump', 'conntrack']);
      for (const [bunkerId, record] of networks.records) networks.watch(networks.describe(bunkerId, record), record.policy);
    } catch (error) {
      await networks.close();
      throw error;
    }
    return networks;
  }

  /**
   * Stops the resolver, the deny-log readers and the flow auditors (their batches written);
   * bunkers' namespaces stay, for the next process.
   */
  async close(): Promise<void> {
    this.resolver?.close();
    const activities = [...this.activity.values()];
    this.activity.clear();
    await Promise.all(activities.map(async (activity) => {
      activity.denyLog?.stop();
      await activity.auditor?.stop();
    }));
  }

  private get dnsPort(): number {
    return this.options.dnsPort ?? DEFAULT_DNS_PORT;
  }

  private onResolverReport(report: InterceptorReport): void {
    if (report.op === 'denied') this.noteDenial(report.bunkerId, { kind: 'dns', at: report.at, name: report.name, type: report.type });
    if (report.op === 'queried') this.activity.get(report.bunkerId)?.auditor?.query(report.at, report.name, report.type, report.verdict);
    if (report.op === 'resolved') {
      const names = this.activity.get(report.bunkerId)?.names;
      if (!names) return;
      for (const { address } of report.addresses) {
        names.delete(address);
        names.set(address, report.name);
        if (names.size > NAMES_KEPT) names.delete(names.keys().next().value!);
      }
    }
  }

  private noteDenial(bunkerId: string, denial: NetworkDenial): void {
    const activity = this.activity.get(bunkerId);
    if (!activity) return;
    if (denial.kind === 'dns') activity.denied.names++;
    else {
      activity.denied.connections++;
      activity.auditor?.denied(denial.at, denial.protocol, denial.destination, denial.port);
    }
    activity.recent.push(denial);
    if (activity.recent.length > RECENT_DENIALS) activity.recent.shift();
    this.options.onDenial?.(bunkerId, denial);
  }

  /** What a running bunker's network is and refused (undefined: no network here). */
  status(bunkerId: string): NetworkStatus | undefined {
    const record = this.records.get(bunkerId);
    const activity = this.activity.get(bunkerId);
    if (!record || !activity) return undefined;
    const addresses = slotAddresses(record.slot);
    return {
      profile: record.policy.profile, mac: record.mac, address: addresses.guest, gateway: addresses.gateway,
      denied: { ...activity.denied }, recent_denials: [...activity.recent],
    };
  }

  /** The resolver's policy for a bunker, its deny log (filtered or audited), and its flow audit. */
  private watch(network: AttachedNetwork, policy: BunkerNetworkLaunch): void {
    const filtered = this.interceptPolicy(network.bunkerId, policy).mode === 'filtered';
    const activity: BunkerActivity = { denied: { names: 0, connections: 0 }, recent: [], names: new Map() };
    this.activity.set(network.bunkerId, activity);
    const store = this.options.auditStore;
    if (this.audited(policy) && store) {
      const batches = new AuditBatches(network.bunkerId, store, {
        flushMs: this.options.auditFlushMs ?? 5000, maxRecords: 500, onError: (error) => this.options.onAuditError?.(network.bunkerId, error),
      });
      activity.auditor = new FlowAuditor(network.bunkerId, network.netns, network.addresses.guest, network.addresses.gateway, batches, (address) => activity.names.get(address));
    }
    if (filtered || activity.auditor) activity.denyLog = new DenyLogReader(network.netns, (denial) => this.noteDenial(network.bunkerId, { kind: 'connection', ...denial }));
    this.tellResolver(network, policy);
  }

  /** Whether a bunker's flows are audited here. */
  private audited(policy: BunkerNetworkLaunch): boolean {
    return policy.egressAudit === true && this.options.auditStore !== undefined;
  }

  private tellResolver(network: AttachedNetwork, policy: BunkerNetworkLaunch): void {
    const command: InterceptorCommand = { op: 'policy', source: network.addresses.linkBunker, netns: network.netns, policy: this.interceptPolicy(network.bunkerId, policy) };
    this.sendToResolver(command);
  }

  private sendToResolver(command: InterceptorCommand): void {
    this.resolver?.send(command);
  }

  private interceptPolicy(bunkerId: string, policy: BunkerNetworkLaunch): InterceptPolicy {
    const audit = this.audited(policy);
    if (policy.profile === 'registry') return { bunkerId, mode: 'filtered', entries: [...(this.options.registries ?? DEFAULT_REGISTRIES)], audit };
    if (policy.profile === 'allowlisted') return { bunkerId, mode: 'filtered', entries: policy.allowlist ?? [], audit };
    return { bunkerId, mode: 'open', entries: [], audit };
  }

  /**
   * Deletes the namespaces (and slot records) of this worker's bunkers that are not in
   * `keep`: what a crash or a kill left behind. Answers the bunker ids cleaned up.
   */
  async reconcile(keep: ReadonlySet<string>): Promise<string[]> {
    const stale = new Set<string>();
    for (const name of await listNetns(this.prefix)) {
      const bunkerId = name.slice(this.prefix.length);
      if (!keep.has(bunkerId)) stale.add(bunkerId);
    }
    for (const bunkerId of this.records.keys()) if (!keep.has(bunkerId)) stale.add(bunkerId);
    for (const bunkerId of stale) await this.detach(bunkerId);
    await this.bridges.reconcile(new Set([...this.records.values()].map((r) => r.slot)));
    return [...stale];
  }

  /**
   * Builds a bunker's network in two steps. Answered once what its VMM opens exists (the
   * namespace, its tap, its transit taps); the rest (the link to the uplink, the ruleset,
   * bandwidth, the resolver's policy) goes on while the VM restores, and `ready` settles when
   * it is done: the guest must not take its address before (its clone of a sealed template
   * runs nothing of its user's until then, and has no route out). A failure of the first step
   * leaves nothing behind; one of `ready` leaves the caller to detach.
   */
  async attach(bunkerId: string, policy: BunkerNetworkLaunch): Promise<AttachedNetwork & { ready: Promise<void> }> {
    if (this.records.has(bunkerId)) throw new ScaiError('CONFLICT', `Bunker ${bunkerId} has a network already.`);
    const record: SlotRecord = { slot: this.freeSlot(), mac: randomMac(), policy };
    // Recorded first: a crash from here on leaves a record that the next reconcile cleans up.
    this.records.set(bunkerId, record);
    const network = this.describe(bunkerId, record);
    try {
      await writeFile(join(this.options.stateDir, `${bunkerId}.json`), JSON.stringify(record), { mode: 0o600 });
      await deleteNetns(network.netns);
      await addNetns(network.netns);
      // No owner: only processes inside this namespace can attach to it, and only its VMM is there.
      await ipBatch(network.netns, ['link set lo up', `tuntap add dev ${GUEST_DEVICE} mode tap`]);
      await this.bridges.attach(record.slot, policy.interfaces ?? []);
    } catch (error) {
      await this.detach(bunkerId).catch(() => undefined);
      throw error;
    }
    const ready = this.connect(network, policy);
    ready.catch(() => undefined); // the caller's to await
    return { ...network, ready };
  }

  /** The second step of `attach`: the link to the uplink, addresses and route, ruleset, bandwidth, resolver policy. */
  private async connect(network: AttachedNetwork, policy: BunkerNetworkLaunch): Promise<void> {
    const a = network.addresses;
    await this.deleteUplinkDevice(a.uplinkDevice); // a leftover of a crash, if any
    await ipBatch(this.options.uplinkNetns, [
      `link add ${a.uplinkDevice} type veth peer name ${LINK_DEVICE} netns ${network.netns}`,
      `addr add ${a.linkUplink}/${a.linkPrefix} dev ${a.uplinkDevice}`,
      `link set ${a.uplinkDevice} up`,
    ]);
    await ipBatch(network.netns, [
      `addr add ${a.gateway}/${a.guestPrefix} dev ${GUEST_DEVICE}`,
      `link set ${GUEST_DEVICE} up`,
      `addr add ${a.linkBunker}/${a.linkPrefix} dev ${LINK_DEVICE}`,
      `link set ${LINK_DEVICE} up`,
      `route add default via ${a.linkUplink}`,
    ]);
    const egress = this.interceptPolicy(network.bunkerId, policy).mode === 'filtered' ? 'filtered' : 'open';
    const ruleset = bunkerRuleset({ addresses: a, dns: { address: a.linkUplink, port: this.dnsPort }, egress });
    // The conntrack settings exist in a namespace once its ruleset uses conntrack.
    await runIn(network.netns, 'sh', ['-c', `echo 1 > /proc/sys/net/ipv4/ip_forward && nft -f -${this.audited(policy) ? ` && ${AUDIT_SYSCTLS}` : ''}`], ruleset);
    if (policy.bandwidthMbit) await runCommand('tc', ['-n', network.netns, '-batch', '-'], { input: bandwidthQdiscs(policy.bandwidthMbit) });
    // Detached meanwhile (stopped while it started): nothing to watch.
    if (!this.records.has(network.bunkerId)) throw new ScaiError('CONFLICT', `Bunker ${network.bunkerId} was detached while its network was built.`);
    this.watch(network, policy);
  }

  /** Deletes a bunker's namespace (devices, ruleset, qdiscs with it) and frees its slot; unknown ids are a no-op. */
  async detach(bunkerId: string): Promise<void> {
    const record = this.records.get(bunkerId);
    const addresses = record && slotAddresses(record.slot);
    if (addresses) this.sendToResolver({ op: 'forget', source: addresses.linkBunker, bunkerId });
    const activity = this.activity.get(bunkerId);
    this.activity.delete(bunkerId);
    activity?.denyLog?.stop();
    // Its last flows are ended and written before the namespace goes.
    await activity?.auditor?.close().catch((error: unknown) => this.options.onAuditError?.(bunkerId, error));
    // The kernel dismantles a deleted namespace later, in the background: the veth pair is
    // deleted now, from its uplink end, so the slot's device name is free for the next bunker.
    if (addresses) await this.deleteUplinkDevice(addresses.uplinkDevice);
    await deleteNetns(this.netnsOf(bunkerId));
    // Its transit taps live in their bridges' namespaces, not in its own: they go one by one.
    if (record) await this.bridges.detach(record.slot, record.policy.interfaces ?? []);
    this.records.delete(bunkerId);
    await rm(join(this.options.stateDir, `${bunkerId}.json`), { force: true });
  }

  private async deleteUplinkDevice(device: string): Promise<void> {
    await runIn(this.options.uplinkNetns, 'ip', ['link', 'delete', device]).catch(() => undefined); // gone already
  }

  private netnsOf(bunkerId: string): string {
    return `${this.prefix}${bunkerId}`;
  }

  private describe(bunkerId: string, record: SlotRecord): AttachedNetwork {
    const netns = this.netnsOf(bunkerId);
    const addresses = slotAddresses(record.slot);
    const transit = this.bridges.ports(record.slot, record.policy.interfaces ?? []);
    // The guest names its NICs eth0, eth1, … in device order: eth1 is the first transit one.
    const transitConfig = record.policy.interfaces?.map((nic, i) => `eth${i + 1} ${nic.ifName} ${nic.mac}`).join(' ');
    return {
      bunkerId, slot: record.slot, netns, netnsPath: netnsPath(netns), tap: GUEST_DEVICE, mac: record.mac, addresses,
      guestConfig: `${record.mac} ${addresses.guest}/${addresses.guestPrefix} ${addresses.gateway} ${addresses.gateway}`,
      transit, transitConfig: transitConfig || undefined,
    };
  }

  private freeSlot(): number {
    const used = new Set([...this.records.values()].map((r) => r.slot));
    for (let slot = 0; slot < MAX_SLOTS; slot++) if (!used.has(slot)) return slot;
    throw new ScaiError('WORKER_UNAVAILABLE', `This worker has no network slot left (${MAX_SLOTS} in use).`);
  }
}

/** Parses `address[:port]` of a resolver (IPv4). */
export function parseResolver(value: string): { address: string; port: number } {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match?.[2] ? Number(match[2]) : 53;
  if (!match || match[1]!.split('.').some((octet) => Number(octet) > 255) || port < 1 || port > 65535) {
    throw new ScaiError('VALIDATION_ERROR', `A resolver is an IPv4 address with an optional port, got "${value}".`, {
      details: [{ field: 'SCAIBUNKER_NETWORK_DNS_UPSTREAM', message: 'e.g. 192.0.2.53 or 192.0.2.53:5353' }],
    });
  }
  return { address: match[1]!, port };
}

/**
 * The worker's network settings from its environment: `SCAIBUNKER_NETWORK=off` runs isolated
 * bunkers only; `SCAIBUNKER_NETWORK_UPLINK_NETNS` names the namespace bunkers' traffic
 * leaves through (default: the worker's own); `SCAIBUNKER_NETWORK_DNS_UPSTREAM` the resolver
 * (default: the first `nameserver` of /etc/resolv.conf, as the uplink namespace sees it).
 */
export async function networkOptionsFromEnv(env: NodeJS.ProcessEnv, dataDir: string): Promise<BunkerNetworkOptions | undefined> {
  if (env.SCAIBUNKER_NETWORK === 'off') return undefined;
  const uplinkNetns = env.SCAIBUNKER_NETWORK_UPLINK_NETNS || undefined;
  let upstream = env.SCAIBUNKER_NETWORK_DNS_UPSTREAM;
  if (!upstream) {
    // `ip netns exec` shows a namespace its own /etc/netns/<name>/resolv.conf, when there is one.
    const conf = (await runIn(uplinkNetns, 'cat', ['/etc/resolv.conf']).catch(() => ({ stdout: '' }))).stdout;
    upstream = /^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/m.exec(conf)?.[1];
    if (!upstream) throw new ScaiError('VALIDATION_ERROR', 'No IPv4 resolver in /etc/resolv.conf: set SCAIBUNKER_NETWORK_DNS_UPSTREAM (or SCAIBUNKER_NETWORK=off).');
  }
  const registries = env.SCAIBUNKER_NETWORK_REGISTRIES?.split(',').map((name) => name.trim()).filter(Boolean);
  const dnsPort = env.SCAIBUNKER_NETWORK_DNS_PORT ? Number(env.SCAIBUNKER_NETWORK_DNS_PORT) : undefined;
  if (dnsPort !== undefined && !(Number.isInteger(dnsPort) && dnsPort > 0 && dnsPort < 65536)) {
    throw new ScaiError('VALIDATION_ERROR', 'SCAIBUNKER_NETWORK_DNS_PORT must be a port number.', { details: [{ field: 'SCAIBUNKER_NETWORK_DNS_PORT', message: 'a port, 1–65535' }] });
  }
  return { stateDir: join(dataDir, 'network'), uplinkNetns, dnsUpstream: parseResolver(upstream), ...(registries?.length ? { registries } : {}), ...(dnsPort ? { dnsPort } : {}) };
}
