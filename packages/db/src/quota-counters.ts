import { Redis } from 'ioredis';
import type { QuotaUsage } from '@scaibunker/core';

const FIELDS = ['bunkers', 'persistentBunkers', 'cpuMillicores', 'memoryMb', 'diskMb', 'gpuCount'] as const;

/**
 * Quota bucket counters in Redis (`SCAIBUNKER_REDIS_URL`): a bucket's usage is one hash, read
 * in one round trip instead of summing its charges. The database's `quota_charges` stay the
 * ledger: the counters are changed inside the same serialised transaction that writes the
 * charges (and undone if it does not commit), and rebuilt from the ledger at every start.
 */
export class RedisQuotaCounters {
  private constructor(private readonly redis: Redis, private readonly prefix: string) {}

  /** Connects (and fails fast if Redis does not answer). `prefix` keeps deployments (and tests) apart. */
  static async connect(url: string, prefix = 'scaibunker:'): Promise<RedisQuotaCounters> {
    // No retries for the first connection (a start must fail, not wait); once up, reconnect.
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: false, connectTimeout: 3000, retryStrategy: () => null });
    redis.on('error', () => undefined); // surfaced by the calls that fail
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    redis.options.retryStrategy = (times: number) => Math.min(times * 200, 2000);
    return new RedisQuotaCounters(redis, prefix);
  }

  private key(bucket: string): string {
    return `${this.prefix}quota:${bucket}`;
  }

  async read(buckets: readonly string[]): Promise<Map<string, QuotaUsage>> {
    const pipeline = this.redis.pipeline();
    for (const bucket of buckets) pipeline.hmget(this.key(bucket), ...FIELDS);
    const replies = (await pipeline.exec()) ?? [];
    const usage = new Map<string, QuotaUsage>();
    buckets.forEach((bucket, i) => {
      const [error, values] = replies[i] ?? [new Error('no reply'), null];
      if (error) throw error;
      const numbers = (values as (string | null)[]).map((v) => Number(v ?? 0));
      usage.set(bucket, Object.fromEntries(FIELDS.map((f, j) => [f, numbers[j]!])) as unknown as QuotaUsage);
    });
    return usage;
  }

  /** Adds `sign` × `usage` to every bucket, atomically. */
  async add(buckets: readonly string[], usage: QuotaUsage, sign: 1 | -1): Promise<void> {
    if (buckets.length === 0) return;
    const multi = this.redis.multi();
    for (const bucket of buckets) for (const f of FIELDS) if (usage[f] !== 0) multi.hincrby(this.key(bucket), f, sign * usage[f]);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('Redis did not run the transaction');
  }

  /** Replaces every counter with the ledger's truth (buckets absent from it read 0). */
  async reconcile(truth: ReadonlyMap<string, QuotaUsage>): Promise<void> {
    const stale: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}quota:*`, 'COUNT', 500);
      stale.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    const multi = this.redis.multi();
    if (stale.length > 0) multi.del(...stale);
    for (const [bucket, usage] of truth) {
      if (FIELDS.every((f) => usage[f] === 0)) continue;
      multi.hset(this.key(bucket), Object.fromEntries(FIELDS.map((f) => [f, String(usage[f])])));
    }
    await multi.exec();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

