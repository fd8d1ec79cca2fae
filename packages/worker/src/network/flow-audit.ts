import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ObjectStore } from '@scaibunker/storage';
import { isoFromEpochText } from './event-time.js';
import { runIn } from './netns.js';

/** One flow of a bunker's egress audit: a line of its NDJSON batches. */
export interface FlowRecord {
  bunker_id: string;
  /** The kernel's conntrack id (unique while the flow lives). */
  flow_id: string;
  start: string;
  end: string;
  protocol: string;
  src: string;
  sport: number | null;
  dst: string;
  dport: number | null;
  /** Bytes and packets the guest sent / received (IP level: headers included). */
  bytes_out: number;
  bytes_in: number;
  packets_out: number;
  packets_in: number;
  /** The name the guest resolved this destination from, when it asked the worker's resolver. */
  dns_name: string | null;
  verdict: 'allowed' | 'denied';
}

/** A conntrack event line, read. */
export interface ConntrackEvent {
  type: 'NEW' | 'UPDATE' | 'DESTROY';
  /** TCP's state (SYN_SENT, ESTABLISHED, TIME_WAIT, …); undefined for other protocols. */
  state: string | undefined;
  at: string;
  id: string;
  protocol: string;
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
  packets: number;
  bytes: number;
  replyPackets: number;
  replyBytes: number;
}

const EVENT = /^\[(\d+)\.(\d+)\]\s+\[(NEW|UPDATE|DESTROY)\]\s+ipv4\s+\d+\s+(\S+)\s+\d+\s+(.*)$/;

/**
 * One line of `conntrack -E -o timestamp,extended,id`, e.g.
 * `[1796430272.001770] [DESTROY] ipv4 2 tcp 6 TIME_WAIT src=… dst=… sport=… dport=… packets=6 bytes=437 src=… … id=2466535255`:
 * the first src/dst/ports/counters are the original direction (the guest's), the second set the reply's.
 */
export function parseConntrackEvent(line: string): ConntrackEvent | undefined {
  const match = EVENT.exec(line.trim());
  if (!match) return undefined;
  const tokens = match[5]!.split(/\s+/);
  // The conntrack id is the last `id=` (an ICMP flow has its own before it; a deletion is followed by `[USERSPACE] portid=…`).
  const idAt = tokens.findLastIndex((token) => /^id=\d+$/.test(token));
  if (idAt < 0) return undefined;
  const id = tokens[idAt]!.slice(3);
  const original: Record<string, string> = {};
  const reply: Record<string, string> = {};
  let side = original;
  for (const token of tokens.slice(0, idAt)) {
    const kv = /^([a-z]+)=(\S+)$/.exec(token);
    if (!kv) continue;
    if (kv[1] === 'src' && 'src' in original) side = reply;
    side[kv[1]!] ??= kv[2]!;
  }
  if (!original.src || !original.dst) return undefined;
  const port = (value: string | undefined) => (value === undefined ? null : Number(value));
  return {
    type: match[3] as ConntrackEvent['type'],
    state: tokens.find((token) => /^[A-Z_]{4,}$/.test(token)),
    at: isoFromEpochText(match[1]!, match[2]!),
    id, protocol: match[4]!, src: original.src, dst: original.dst, sport: port(original.sport), dport: port(original.dport),
    packets: Number(original.packets ?? 0), bytes: Number(original.bytes ?? 0), replyPackets: Number(reply.packets ?? 0), replyBytes: Number(reply.bytes ?? 0),
  };
}

/** Batches of a bunker's flows, written as objects `scaibunker/audit/{bunker_id}/{ts_us}-{worker_pid}.ndjson`. */
export class AuditBatches {
  private records: FlowRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing = Promise.resolve();
  private lastTsUs = 0;

  constructor(
    private readonly bunkerId: string,
    private readonly store: ObjectStore,
    private readonly options: { flushMs: number; maxRecords: number; onError: (error: unknown) => void },
  ) {}

  add(record: FlowRecord): void {
    this.records.push(record);
    if (this.records.length >= this.options.maxRecords) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Writes what is buffered (one object); resolves when every write so far is stored. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.records;
    this.records = [];
    if (batch.length > 0) {
      // Keys sort in time order; two flushes in one microsecond still get two keys.
      const tsUs = Math.max(Date.now() * 1000, this.lastTsUs + 1);
      this.lastTsUs = tsUs;
      const key = `scaibunker/audit/${this.bunkerId}/${tsUs}-${process.pid}.ndjson`;
      const body = batch.map((record) => JSON.stringify(record)).join('\n') + '\n';
      this.writing = this.writing.then(() => this.store.put(key, body)).catch(this.options.onError);
    }
    return this.writing;
  }
}

/** The conntrack settings an audited bunker's namespace needs: byte counters, and closed TCP flows reported within seconds. */
export const AUDIT_SYSCTLS = [
  'echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct',
  // Only the states after both sides closed: a half-closed flow may still carry data for long.
  ...['time_wait', 'close'].map((state) => `echo 2 > /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_${state}`),
  'echo 10 > /proc/sys/net/netfilter/nf_conntrack_udp_timeout',
].join(' && ');

/** Finished flows deleted at once, and how many may wait for that. */
const PARALLEL_ENDS = 4;
const MAX_OPEN_FLOWS = 65_536;
const MAX_QUEUED_ENDS = 1000;

/** TCP states after which a flow carries nothing more (but its entry lingers until the kernel's next sweep). */
const CLOSED_TCP_STATES = new Set(['TIME_WAIT', 'CLOSE']);

/**
 * Every flow a bunker's guest opens, from the conntrack events of its namespace: a record at
 * each flow's end, whose DESTROY event carries the byte counts both ways. The kernel reports
 * an expired entry only at its next sweep (up to a minute, host-wide), so a TCP flow that
 * reached TIME_WAIT is deleted at once, which reports it. `close()` ends every flow still
 * open the same way, so a bunker's last flows are written too.
 */
export class FlowAuditor {
  private readonly child: ChildProcess;
  private readonly started = new Map<string, string>();
  private readonly ending: string[][] = [];
  private deleting = 0;
  /** Numbering the records that have no conntrack id (with the worker's pid: unique across its restarts). */
  private queries = 0;
  private refusals = 0;
  private readonly exited: Promise<void>;

  constructor(
    private readonly bunkerId: string,
    private readonly netns: string,
    private readonly guestAddress: string,
    /** The guest's gateway, its resolver. */
    private readonly resolverAddress: string,
    private readonly batches: AuditBatches,
    private readonly nameOf: (address: string) => string | undefined,
  ) {
    // A large socket buffer: a burst of flows must not overflow it (the kernel would drop events).
    this.child = spawn('ip', ['netns', 'exec', netns, 'conntrack', '-E', '-e', 'NEW,UPDATE,DESTROY', '-o', 'timestamp,extended,id', '--buffer-size', String(8 * 1024 * 1024)], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.child.once('close', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onEvent(parseConntrackEvent(line)));
  }

  /**
   * A name the guest asked the worker's resolver, recorded as a `dns` flow to its gateway:
   * names can carry data out as well as connections can.
   */
  query(at: string, name: string, type: number, verdict: 'allowed' | 'denied'): void {
    this.batches.add({
      bunker_id: this.bunkerId, flow_id: `dns-${process.pid}-${++this.queries}`, start: at, end: at, protocol: 'dns', src: this.guestAddress, sport: null,
      dst: this.resolverAddress, dport: 53, bytes_out: 0, bytes_in: 0, packets_out: 0, packets_in: 0, dns_name: `${name} (type ${type})`, verdict,
    });
  }

  /** A refused attempt (from the deny log), recorded as a flow that never started. */
  denied(at: string, protocol: string, dst: string, dport: number | undefined): void {
    this.batches.add({
      bunker_id: this.bunkerId, flow_id: `denied-${process.pid}-${++this.refusals}`, start: at, end: at, protocol, src: this.guestAddress, sport: null, dst,
      dport: dport ?? null, bytes_out: 0, bytes_in: 0, packets_out: 0, packets_in: 0, dns_name: this.nameOf(dst) ?? null, verdict: 'denied',
    });
  }

  private onEvent(event: ConntrackEvent | undefined): void {
    // Only the guest's flows (the namespace has no other traffic of its own).
    if (!event || event.src !== this.guestAddress) return;
    if (event.type === 'NEW') {
      this.started.set(event.id, event.at);
      // Flows whose end was never seen (events lost) must not pile up: the oldest go.
      if (this.started.size > MAX_OPEN_FLOWS) this.started.delete(this.started.keys().next().value!);
      return;
    }
    if (event.type === 'UPDATE') {
      if (event.state && CLOSED_TCP_STATES.has(event.state) && this.started.has(event.id)) this.end(event);
      return;
    }
    const start = this.started.get(event.id) ?? event.at;
    this.started.delete(event.id);
    this.batches.add({
      bunker_id: this.bunkerId, flow_id: event.id, start, end: event.at, protocol: event.protocol,
      src: event.src, sport: event.sport, dst: event.dst, dport: event.dport,
      bytes_out: event.bytes, bytes_in: event.replyBytes, packets_out: event.packets, packets_in: event.replyPackets,
      dns_name: this.nameOf(event.dst) ?? null, verdict: 'allowed',
    });
  }

  /**
   * Deletes a finished flow's entry: its DESTROY event (with the counters) follows. A few at a
   * time: past the queue's bound a flow waits for the kernel's own sweep instead.
   */
  private end(event: ConntrackEvent): void {
    if (this.ending.length >= MAX_QUEUED_ENDS) return;
    this.ending.push(['-D', '-p', event.protocol, '-s', event.src, '-d', event.dst, ...(event.sport === null ? [] : ['--sport', String(event.sport)]), ...(event.dport === null ? [] : ['--dport', String(event.dport)])]);
    this.drainEnds();
  }

  private drainEnds(): void {
    while (this.deleting < PARALLEL_ENDS && this.ending.length > 0) {
      const args = this.ending.shift()!;
      this.deleting++;
      // Gone already is fine: its DESTROY came anyway.
      void runIn(this.netns, 'conntrack', args).catch(() => undefined).finally(() => { this.deleting--; this.drainEnds(); });
    }
  }

  /** The bunker ends: its open flows are ended (deleting their entries reports them) and everything is written. */
  async close(): Promise<void> {
    await runIn(this.netns, 'conntrack', ['-D']).catch(() => undefined); // exits 1 when there was nothing to delete
    // The listener reads the DESTROY events of what was just deleted; a moment is plenty.
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 300))]);
    await this.stop();
  }

  /** The worker stops (the bunker runs on): what was recorded is written; flows still open are the next process's. */
  async stop(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.batches.flush();
  }
}
