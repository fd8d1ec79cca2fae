/**
 * The worker's resolver as a process of its own, started inside the uplink namespace (where
 * the bunkers' links end; with no uplink namespace set, the worker's own). The worker tells it
 * each bunker's policy over the IPC channel and hears back what was denied and resolved; it
 * adds allowed addresses to each bunker's nft set itself, before the guest gets its answer.
 *
 *   node dns-interceptor-process.js '{"host":"0.0.0.0","port":10053,"upstream":{"address":"192.0.2.53","port":53}}'
 */
import { DnsInterceptor, type InterceptPolicy } from './dns-interceptor.js';
import { AllowedSets } from './allowed-sets.js';

/** Worker → resolver. */
export type InterceptorCommand =
  | { op: 'policy'; source: string; netns: string; policy: InterceptPolicy }
  | { op: 'forget'; source: string; bunkerId: string };

/** Resolver → worker. */
export type InterceptorReport =
  | { op: 'listening'; port: number }
  | { op: 'denied'; bunkerId: string; name: string; type: number; at: string }
  | { op: 'resolved'; bunkerId: string; name: string; addresses: { address: string; ttl: number }[] }
  | { op: 'queried'; bunkerId: string; name: string; type: number; verdict: 'allowed' | 'denied'; at: string };

const config = JSON.parse(process.argv[2] ?? '{}') as { host: string; port: number; upstream: { address: string; port: number } };
const report = (message: InterceptorReport) => process.send?.(message);
const sets = new AllowedSets();
const netnsOf = new Map<string, string>();

const interceptor = new DnsInterceptor({
  host: config.host, port: config.port, upstream: config.upstream,
  hooks: {
    allow: async (policy, addresses) => {
      const netns = netnsOf.get(policy.bunkerId);
      // Forgotten meanwhile (the bunker ended): nothing to let through, and never the uplink's tables.
      if (!netns) throw new Error(`no namespace for ${policy.bunkerId}`);
      await sets.allow(netns, addresses);
    },
    denied: (policy, name, type) => report({ op: 'denied', bunkerId: policy.bunkerId, name, type, at: new Date().toISOString() }),
    resolved: (policy, name, addresses) => report({ op: 'resolved', bunkerId: policy.bunkerId, name, addresses }),
    queried: (policy, name, type, verdict) => report({ op: 'queried', bunkerId: policy.bunkerId, name, type, verdict, at: new Date().toISOString() }),
  },
});

process.on('message', (command: InterceptorCommand) => {
  if (command.op === 'policy') {
    netnsOf.set(command.policy.bunkerId, command.netns);
    interceptor.setPolicy(command.source, command.policy);
  } else {
    interceptor.forget(command.source);
    const netns = netnsOf.get(command.bunkerId);
    if (netns) sets.forget(netns);
    netnsOf.delete(command.bunkerId);
  }
});
// The worker is gone (its IPC channel closed): so is this resolver.
process.on('disconnect', () => {
  interceptor.close();
  process.exit(0);
});

// A previous worker's resolver may still be exiting (it goes when its worker's channel closes).
for (let attempt = 0; ; attempt++) {
  try {
    const { port } = await interceptor.listen();
    report({ op: 'listening', port });
    break;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw error;
    interceptor.close();
    await new Promise((r) => setTimeout(r, 100));
  }
}
