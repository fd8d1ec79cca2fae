import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { addNetns, deleteNetns, ipBatch } from '@scaibunker/worker';

/** What a fake internet's hosts served, one entry per DNS question or HTTP request. */
export type HostEvent =
  | { kind: 'dns'; name: string; type: number; answered: boolean }
  | { kind: 'http'; address: string; host: string; url: string; from: string; received: number; sent: number };

/**
 * Two network namespaces made by a test: `uplink`, standing in for a worker host's own
 * namespace (a worker set with SCAIBUNKER_NETWORK_UPLINK_NETNS puts its bunkers' links
 * there), and `internet` beyond it, whose default route it is. The internet's hosts are
 * addresses on its loopback: a DNS server and HTTP servers, run by this test. Nothing routes
 * anywhere else, so no guest traffic can reach a real network.
 */
export interface FakeInternet {
  uplinkNetns: string;
  /** The fake internet's resolver (`address:port`), for SCAIBUNKER_NETWORK_DNS_UPSTREAM. */
  resolver: string;
  events: HostEvent[];
  /** Waits until an event matching `predicate` was served. */
  waitFor(predicate: (event: HostEvent) => boolean, timeoutMs?: number): Promise<HostEvent>;
  close(): Promise<void>;
}

export interface FakeInternetConfig {
  /** name → IPv4 address answered by the fake resolver (any other name: NXDOMAIN). */
  records: Record<string, string>;
  /** HTTP servers (each address is put on the internet's loopback). */
  http: { address: string; port?: number }[];
}

const RESOLVER = '198.51.100.53';

export async function startFakeInternet(config: FakeInternetConfig): Promise<FakeInternet> {
  const tag = randomBytes(3).toString('hex');
  const uplink = `sbtest-up-${tag}`;
  const internet = `sbtest-inet-${tag}`;
  let hosts: ChildProcess | undefined;
  const close = async () => {
    hosts?.kill('SIGKILL');
    await deleteNetns(internet);
    await deleteNetns(uplink);
  };
  try {
    await addNetns(uplink);
    await addNetns(internet);
    await ipBatch(uplink, [
      'link set lo up',
      `link add inet0 type veth peer name eth0 netns ${internet}`,
      'addr add 192.0.2.1/30 dev inet0',
      'link set inet0 up',
      'route add default via 192.0.2.2',
    ]);
    const addresses = [...new Set([RESOLVER, ...config.http.map((h) => h.address)])];
    await ipBatch(internet, [
      'link set lo up',
      ...addresses.map((address) => `addr add ${address}/32 dev lo`),
      'addr add 192.0.2.2/30 dev eth0',
      'link set eth0 up',
    ]);
    const script = fileURLToPath(new URL('./fixtures/fake-internet-hosts.mjs', import.meta.url));
    hosts = spawn('ip', ['netns', 'exec', internet, process.execPath, script, JSON.stringify({ dns: { address: RESOLVER, records: config.records }, http: config.http })], { stdio: ['ignore', 'pipe', 'inherit'] });
    const events: HostEvent[] = [];
    const waiters = new Set<() => void>();
    const ready = new Promise<void>((resolve, reject) => {
      hosts!.once('exit', (code) => reject(new Error(`the fake internet's hosts exited with ${code}`)));
      createInterface({ input: hosts!.stdout! }).on('line', (line) => {
        const event = JSON.parse(line) as HostEvent | { kind: 'ready' };
        if (event.kind === 'ready') resolve();
        else events.push(event);
        for (const wake of waiters) wake();
      });
    });
    await ready;
    return {
      uplinkNetns: uplink, resolver: RESOLVER, events, close,
      waitFor(predicate, timeoutMs = 10_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            const found = events.find(predicate);
            if (!found) return;
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          };
          const timer = setTimeout(() => { waiters.delete(check); reject(new Error('the fake internet saw no such event')); }, timeoutMs);
          waiters.add(check);
          check();
        });
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
