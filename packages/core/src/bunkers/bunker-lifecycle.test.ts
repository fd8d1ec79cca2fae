import { describe, expect, it } from 'vitest';
import { canTransition, expiryReason, holdsResources } from './bunker-lifecycle.js';

describe('bunker lifecycle', () => {
  it('moves pending → provisioning → running ⇄ paused, and nothing leaves a final status', () => {
    expect(canTransition('pending', 'provisioning')).toBe(true);
    expect(canTransition('provisioning', 'running')).toBe(true);
    expect(canTransition('running', 'paused')).toBe(true);
    expect(canTransition('paused', 'running')).toBe(true);
    expect(canTransition('pending', 'running')).toBe(false);
    expect(canTransition('terminated', 'running')).toBe(false);
    expect(canTransition('failed', 'terminated')).toBe(false);
    expect(holdsResources('paused')).toBe(true);
    expect(holdsResources('failed')).toBe(false);
  });

  it('expires on max lifetime, and on idleness only while running', () => {
    const base = { createdAtMs: 0, lastActivityAtMs: 0, maxLifetimeS: 900, idleTimeoutS: 300, status: 'running' as const };
    expect(expiryReason(base, 299_999)).toBeNull();
    expect(expiryReason(base, 300_000)).toBe('idle_timeout');
    expect(expiryReason({ ...base, lastActivityAtMs: 800_000 }, 900_000)).toBe('max_lifetime');
    expect(expiryReason({ ...base, status: 'paused' }, 600_000)).toBeNull();
    expect(expiryReason({ ...base, maxLifetimeS: null, idleTimeoutS: null }, 10 ** 12)).toBeNull();
    expect(expiryReason({ ...base, status: 'terminated' }, 10 ** 12)).toBeNull();
  });
});
