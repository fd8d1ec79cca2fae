import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { allowlistMatches } from '@scaibunker/core';
import { answerAddresses, DnsFormatError, parseQuery, RCODE, refusal, type DnsQuestion } from './dns-message.js';

/** How one bunker's queries are answered. */
export interface InterceptPolicy {
  bunkerId: string;
  /** `open`: every name is resolved; `filtered`: only names of `entries`, others are NXDOMAIN. */
  mode: 'open' | 'filtered';
  /** Normalised allowlist entries (see core/network/allowlist.ts). */
  entries: string[];
  /** Every query is reported (`queried`), for the egress audit: names can carry data too. */
  audit?: boolean | undefined;
}

/** A resolved address and how long it may be used. */
export interface ResolvedAddress {
  address: string;
  ttl: number;
}

/** What the interceptor tells its owner. */
export interface InterceptorHooks {
  /**
   * Called with the A records of an allowed name's answer, in `filtered` mode, before the
   * guest gets the answer: when it resolves, the bunker may connect to them (see allowed-sets.ts).
   */
  allow(policy: InterceptPolicy, addresses: ResolvedAddress[]): Promise<void>;
  /** A name refused with NXDOMAIN. */
  denied(policy: InterceptPolicy, name: string, type: number): void;
  /** A name resolved (for the egress audit's names). */
  resolved(policy: InterceptPolicy, name: string, addresses: ResolvedAddress[]): void;
  /** Every query of an audited bunker, answered or refused. */
  queried(policy: InterceptPolicy, name: string, type: number, verdict: 'allowed' | 'denied'): void;
}

export interface DnsInterceptorOptions {
  /** Where to listen (UDP and TCP), e.g. 0.0.0.0:10053 in the uplink namespace. */
  host: string;
  port: number;
  upstream: { address: string; port: number };
  hooks: InterceptorHooks;
  /** Upstream deadline per query; the guest gets SERVFAIL after it. */
  timeoutMs?: number;
}

/** DNS messages over TCP are at most 64 KiB; more than a few in flight per connection is abuse. */
const TCP_MAX_PENDING = 16;
/**
 * What one bunker may ask of the worker's resolver, which all its bunkers share: queries in
 * flight upstream, queries per second (a bucket refilled at this rate, as deep), and TCP
 * connections. Beyond them its queries are dropped (a guest retries); other bunkers' go on.
 */
const PER_SOURCE = { inFlight: 32, perSecond: 100, tcpConnections: 8 };

/** A bunker's share of the resolver, by source address. */
interface SourceLoad {
  inFlight: number;
  tokens: number;
  refilledAt: number;
  tcp: number;
}

/**
 * The only resolver a networked guest has: its queries to its gateway are redirected here by
 * the bunker's ruleset, and each is matched to its bunker by source address (the bunker's
 * link address, unique per worker). Refused names answer NXDOMAIN; allowed ones are resolved
 * upstream, and in `filtered` mode their addresses are let through the bunker's firewall
 * before the guest learns them, so the first connection never races the rule.
 */
export class DnsInterceptor {
  private readonly policies = new Map<string, InterceptPolicy>();
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly load = new Map<string, SourceLoad>();
  readonly stats = { queries: 0, refused: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: DnsInterceptorOptions) {}

  async listen(): Promise<{ port: number }> {
    const udp = createSocket('udp4');
    this.udp = udp;
    udp.on('message', (message, from) => {
      if (!this.admit(from.address)) return;
      void this.answer(message, from.address).then((reply) => { if (reply) udp.send(reply, from.port, from.address); });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.options.port, this.options.host, () => { udp.off('error', reject); resolve(); });
    });
    udp.on('error', () => undefined);
    const port = udp.address().port;
    const tcp = createServer((socket) => this.serveTcp(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, this.options.host, () => { tcp.off('error', reject); resolve(); });
    });
    return { port };
  }

  /** Sets (or replaces) the policy for queries from `source`, a bunker's link address. */
  setPolicy(source: string, policy: InterceptPolicy): void {
    this.policies.set(source, policy);
  }

  forget(source: string): void {
    this.policies.delete(source);
    this.load.delete(source);
  }

  /** A bunker's share, by its source address (none for an unknown source: it is refused at once, at no cost). */
  private loadOf(source: string): SourceLoad | undefined {
    let load = this.load.get(source);
    if (!load && this.policies.has(source)) {
      load = { inFlight: 0, tokens: PER_SOURCE.perSecond, refilledAt: Date.now(), tcp: 0 };
      this.load.set(source, load);
    }
    return load;
  }

  /** Takes one query of `source`'s share, or answers false when it is spent. */
  private admit(source: string): boolean {
    const now = Date.now();
    const load = this.loadOf(source);
    if (!load) return true;
    load.tokens = Math.min(PER_SOURCE.perSecond, load.tokens + ((now - load.refilledAt) / 1000) * PER_SOURCE.perSecond);
    load.refilledAt = now;
    if (load.tokens < 1 || load.inFlight >= PER_SOURCE.inFlight) {
      this.stats.dropped++;
      return false;
    }
    load.tokens -= 1;
    return true;
  }

  close(): void {
    try {
      this.udp?.close();
    } catch {
      // Never bound (a failed listen).
    }
    this.tcp?.close();
    for (const socket of this.connections) socket.destroy();
  }

  /**
   * The reply to one query from `source`, or undefined for what deserves no answer. A query
   * that came over TCP goes upstream over TCP: it is how a guest asks again for an answer
   * too large for UDP.
   */
  async answer(message: Buffer, source: string, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    this.stats.queries++;
    let question: DnsQuestion;
    try {
      question = parseQuery(message);
    } catch (error) {
      if (!(error instanceof DnsFormatError) || message.length < 12) return undefined;
      this.stats.refused++;
      return formatError(message);
    }
    const policy = this.policies.get(source);
    if (!policy) {
      this.stats.refused++;
      return refusal(message, question, RCODE.REFUSED);
    }
    if (policy.mode === 'filtered' && !allowlistMatches(question.name, policy.entries)) {
      this.stats.refused++;
      this.options.hooks.denied(policy, question.name, question.type);
      if (policy.audit) this.options.hooks.queried(policy, question.name, question.type, 'denied');
      return refusal(message, question, RCODE.NXDOMAIN);
    }
    if (policy.audit) this.options.hooks.queried(policy, question.name, question.type, 'allowed');
    const load = this.load.get(source);
    let reply: Buffer;
    try {
      if (load) load.inFlight++;
      reply = await (transport === 'tcp' ? this.forwardTcp(message) : this.forward(message));
    } catch {
      this.stats.failed++;
      return refusal(message, question, RCODE.SERVFAIL);
    } finally {
      if (load) load.inFlight--;
    }
    let addresses: ResolvedAddress[] = [];
    try {
      addresses = answerAddresses(reply).addresses;
    } catch {
      // An upstream answer we cannot read is passed on as it is; it lets nothing through.
    }
    if (addresses.length > 0) {
      if (policy.mode === 'filtered') {
        try {
          await this.options.hooks.allow(policy, addresses);
        } catch {
          this.stats.failed++;
          return refusal(message, question, RCODE.SERVFAIL);
        }
      }
      this.options.hooks.resolved(policy, question.name, addresses);
    }
    return reply;
  }

  /** Sends a query upstream from a socket of its own (no id to juggle, no reply to mistake for another's). */
  private forward(message: Buffer): Promise<Buffer> {
    const { address, port } = this.options.upstream;
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      const done = (error: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (error) reject(error);
        else resolve(reply!);
      };
      const timer = setTimeout(() => done(new Error('upstream timed out')), this.options.timeoutMs ?? 5000);
      socket.on('error', (error) => done(error));
      socket.on('message', (reply: Buffer, from: RemoteInfo) => {
        // Only the upstream's answer to this very query.
        if (from.address === address && from.port === port && reply.length >= 2 && reply.readUInt16BE(0) === message.readUInt16BE(0)) done(undefined, reply);
      });
      socket.send(message, port, address);
    });
  }

  /** Sends a query upstream over TCP (one connection per query) and reads its one answer. */
  private forwardTcp(message: Buffer): Promise<Buffer> {
    const { address, port } = this.options.upstream;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port });
      let received = Buffer.alloc(0);
      const done = (error: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(reply!);
      };
      const timer = setTimeout(() => done(new Error('upstream timed out')), this.options.timeoutMs ?? 5000);
      socket.on('error', (error) => done(error));
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > 2 + 65_535) return done(new Error('upstream answer too large'));
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) done(undefined, received.subarray(2, 2 + received.readUInt16BE(0)));
      });
      socket.on('end', () => done(new Error('upstream closed before answering')));
    });
  }

  /** DNS over TCP (RFC 7766): two-byte length prefixes; answered in order. */
  private serveTcp(socket: Socket): void {
    const source = socket.remoteAddress?.replace(/^::ffff:/, '') ?? '';
    const load = this.loadOf(source);
    if (load && load.tcp >= PER_SOURCE.tcpConnections) {
      socket.destroy();
      return;
    }
    if (load) load.tcp++;
    this.connections.add(socket);
    socket.on('close', () => {
      this.connections.delete(socket);
      if (load) load.tcp--;
    });
    socket.on('error', () => undefined);
    socket.setTimeout(10_000, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        if (++pending > TCP_MAX_PENDING || !this.admit(source)) {
          socket.destroy();
          return;
        }
        const reply = this.answer(Buffer.from(message), source, 'tcp');
        chain = chain.then(async () => {
          const bytes = await reply;
          pending--;
          if (!bytes || socket.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(bytes.length);
          socket.write(Buffer.concat([length, bytes]));
        });
      }
    });
  }
}

/** FORMERR for a query whose question cannot be read: the header's id, nothing else. */
function formatError(message: Buffer): Buffer {
  const reply = Buffer.alloc(12);
  message.copy(reply, 0, 0, 2);
  reply.writeUInt16BE(0x8000 | RCODE.FORMERR, 2);
  return reply;
}
