/** The verdict of one rate-limit check. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterS: number };

/**
 * Token buckets kept in memory, one per key: `perMinute` tokens that refill continuously.
 * Full buckets are swept so that memory stays bounded by the keys active in the last minute.
 * (With several controller replicas this moves to Redis; the interface stays.)
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerMs: number;
  private lastSweepMs = 0;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.ratePerMs = perMinute / 60_000;
  }

  /** Takes one token for `key`, or tells how long until one is free. */
  take(key: string): RateVerdict {
    const now = this.now();
    this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.ratePerMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000)) };
  }

  /** Whether `key` has a token left, without taking one. */
  peek(key: string): RateVerdict {
    const bucket = this.buckets.get(key);
    if (!bucket) return { allowed: true };
    const tokens = Math.min(this.perMinute, bucket.tokens + (this.now() - bucket.at) * this.ratePerMs);
    return tokens >= 1 ? { allowed: true } : { allowed: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / this.ratePerMs / 1000)) };
  }

  private sweep(now: number): void {
    if (now - this.lastSweepMs < 60_000) return;
    this.lastSweepMs = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.ratePerMs >= this.perMinute) this.buckets.delete(key);
    }
  }
}
