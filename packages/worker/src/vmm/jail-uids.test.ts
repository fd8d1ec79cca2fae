import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JailUids } from './jail-uids.js';

describe('jail uids', () => {
  it('never hands one uid to two allocators on a host, and frees a dead owner’s claim', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jail-uids-'));
    // Two workers on one host (two allocators over the same claims).
    const a = new JailUids(300_000, 4, dir);
    const b = new JailUids(300_000, 4, dir);
    const taken = [a.allocate(), b.allocate(), a.allocate(), b.allocate()];
    expect(new Set(taken).size).toBe(4);
    expect(() => a.allocate()).toThrow(/no free jail uid/);
    b.release(taken[1]!);
    expect(a.allocate()).toBe(taken[1]);
    // A claim left by a process that is gone, whose uid runs nothing, is taken over.
    a.release(taken[0]!);
    writeFileSync(join(dir, String(taken[0])), '2147483646');
    expect(b.allocate()).toBe(taken[0]);
  });
});
