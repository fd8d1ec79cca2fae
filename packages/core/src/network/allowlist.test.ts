import { describe, expect, it } from 'vitest';
import { allowlistMatches, checkAllowlist, checkAllowlistEntry } from './allowlist.js';

describe('network_allowlist entries', () => {
  it('takes plain hostnames and first-level wildcards, normalised to lower case without a root dot', () => {
    for (const [raw, entry] of [['api.example.test', 'api.example.test'], ['*.pkg.example.test', '*.pkg.example.test'], ['PyPI.org.', 'pypi.org'], ['3com.example.com', '3com.example.com'], ['a-b.c-d.io', 'a-b.c-d.io']]) {
      expect(checkAllowlistEntry(raw!)).toEqual({ ok: true, entry });
    }
  });

  it('refuses schemes, paths, ports, deep or mid-label wildcards, bad labels and addresses, each with its reason', () => {
    const reasons: Record<string, RegExp> = {
      'https://example.com': /scheme/,
      'example.com/simple': /path/,
      'example.com:443': /port/,
      '[::1]': /port|IPv6/,
      '**.example.com': /\*\*\./,
      'a*.example.com': /whole first label/,
      'api.*.example.com': /whole first label/,
      '*.com': /at least two labels/,
      'localhost': /fully qualified/,
      'a..example.com': /empty label/,
      '-a.example.com': /not letters, digits and inner hyphens/,
      'a_b.example.com': /not letters, digits and inner hyphens/,
      [`${'x'.repeat(64)}.example.com`]: /longer than 63/,
      '10.0.0.1': /IP address/,
      'user@example.com': /user part/,
      ' example.com': /spaces/,
    };
    for (const [raw, reason] of Object.entries(reasons)) {
      const checked = checkAllowlistEntry(raw);
      expect(checked.ok, raw).toBe(false);
      if (!checked.ok) expect(checked.reason, raw).toMatch(reason);
    }
  });

  it('answers one problem per bad entry, by index, and drops duplicates of good ones', () => {
    expect(checkAllowlist(['a.example.com', 'A.example.com.', 'b.example.com'])).toEqual({ ok: true, entries: ['a.example.com', 'b.example.com'] });
    const checked = checkAllowlist(['ok.example.com', 'http://x.example.com', 'also.ok.example.com', '*.*.example.com']);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.problems.map((p) => p.index)).toEqual([1, 3]);
  });

  it('matches queried names: exact ones, and exactly one label under a wildcard', () => {
    const entries = ['api.example.test', '*.pkg.example.test'];
    for (const name of ['api.example.test', 'a.pkg.example.test', 'x-1.pkg.example.test']) expect(allowlistMatches(name, entries), name).toBe(true);
    for (const name of ['evil.example.test', 'pkg.example.test', 'a.b.pkg.example.test', 'example.test', 'api.example.test.evil', 'test', '']) {
      expect(allowlistMatches(name, entries), name).toBe(false);
    }
  });
});
