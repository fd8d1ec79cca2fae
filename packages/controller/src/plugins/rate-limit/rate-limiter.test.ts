import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter', () => {
  it('allows the budget, refuses the next with a retry time, and refills over time', () => {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.take('k')).toEqual({ allowed: false, retryAfterS: 30 });
    expect(limiter.take('other')).toEqual({ allowed: true });
    now = 30_000;
    expect(limiter.take('k')).toEqual({ allowed: true });
  });

  it('peeks without spending', () => {
    const limiter = new RateLimiter(1, () => 0);
    expect(limiter.peek('k')).toEqual({ allowed: true });
    expect(limiter.take('k')).toEqual({ allowed: true });
    expect(limiter.peek('k')).toEqual({ allowed: false, retryAfterS: 60 });
  });
});
