import { runIn } from './netns.js';
import { ALLOWED_SET_SIZE } from './rulesets.js';
import type { ResolvedAddress } from './dns-interceptor.js';

/** An allowed address stays in a bunker's set at least this long, whatever its TTL: the guest needs time to connect. */
const MIN_TIMEOUT_S = 60;
const MAX_TIMEOUT_S = 86_400;
const PARALLEL_NFT = 8;

/**
 * The `allowed` nft sets of bunkers' namespaces (see rulesets.ts), filled from DNS answers
 * with each address's TTL as its timeout. An address already there for long enough costs no
 * `nft` run; one about to expire is replaced (delete + add, one transaction), since adding an
 * element that exists keeps its old timeout.
 */
export class AllowedSets {
  /** netns → address → when (ms) our element expires. */
  private readonly expiries = new Map<string, Map<string, number>>();
  /** `nft` runs going on, and those waiting for a turn: a flood of answers spawns a few processes at a time. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  private async turn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= PARALLEL_NFT) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  async allow(netns: string, addresses: readonly ResolvedAddress[]): Promise<void> {
    const now = Date.now();
    const known = this.expiries.get(netns) ?? new Map<string, number>();
    this.expiries.set(netns, known);
    // What has expired in the kernel's set is forgotten here too (the set itself is bounded: rulesets.ts).
    if (known.size > ALLOWED_SET_SIZE) for (const [address, expiresAt] of known) if (expiresAt <= now) known.delete(address);
    const fresh: string[] = [];
    const renewed: string[] = [];
    const timeouts = new Map<string, number>();
    for (const { address, ttl } of addresses) {
      const timeoutS = Math.min(MAX_TIMEOUT_S, Math.max(MIN_TIMEOUT_S, ttl));
      const expiresAt = known.get(address);
      if (expiresAt !== undefined && expiresAt - now >= timeoutS * 500) continue;
      (expiresAt !== undefined && expiresAt > now ? renewed : fresh).push(address);
      timeouts.set(address, Math.max(timeouts.get(address) ?? 0, timeoutS));
    }
    if (fresh.length + renewed.length === 0) return;
    const element = (address: string) => `${address} timeout ${timeouts.get(address)}s`;
    const add = (list: string[]) => (list.length ? [`add element inet scaibunker allowed { ${list.map(element).join(', ')} }`] : []);
    const del = renewed.length ? [`delete element inet scaibunker allowed { ${renewed.join(', ')} }`] : [];
    await this.turn(async () => {
      try {
        await runIn(netns, 'nft', ['-f', '-'], [...del, ...add([...fresh, ...renewed])].join('\n'));
      } catch (error) {
        // An element we thought present expired in between: the delete failed the batch. Add only.
        if (del.length === 0) throw error;
        await runIn(netns, 'nft', ['-f', '-'], add([...fresh, ...renewed]).join('\n'));
      }
    });
    for (const address of [...fresh, ...renewed]) known.set(address, now + timeouts.get(address)! * 1000);
  }

  forget(netns: string): void {
    this.expiries.delete(netns);
  }
}
