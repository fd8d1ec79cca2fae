import { describe, expect, it } from 'vitest';
import { idPattern } from '@scaibunker/contracts';
import { apiKeyIdOf, mintApiKey, secretMatches } from './api-key-secret.js';
import { decodeCursor, encodeCursor, toPage } from './cursor.js';
import { newId } from './ids.js';

describe('API key secrets', () => {
  it('carry their key id and match only their own hash', () => {
    const a = mintApiKey();
    const b = mintApiKey();
    expect(a.id).toMatch(new RegExp(idPattern('apiKey')));
    expect(apiKeyIdOf(a.secret)).toBe(a.id);
    expect(a.secretHash).not.toContain(a.secret.split('.')[1]);
    expect(secretMatches(a.secret, a.secretHash)).toBe(true);
    expect(secretMatches(b.secret, a.secretHash)).toBe(false);
  });

  it('refuse strings that are not shaped like a secret', () => {
    expect(apiKeyIdOf('sgk_short')).toBeNull();
    expect(apiKeyIdOf('')).toBeNull();
  });
});

describe('ids and cursors', () => {
  it('sort ids by creation time, also within one millisecond', () => {
    expect(newId('user', 1_000) < newId('user', 2_000)).toBe(true);
    const burst = Array.from({ length: 1000 }, () => newId('audit'));
    expect([...burst].sort()).toEqual(burst);
    expect(new Set(burst).size).toBe(1000);
  });

  it('round-trips a cursor and rejects a forged one with VALIDATION_ERROR', () => {
    const id = newId('tenant');
    expect(decodeCursor(encodeCursor(id))).toBe(id);
    expect(() => decodeCursor('bm90LWFuLWlk')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
  });

  it('pages limit+1 rows into a page and a next cursor', () => {
    const rows = [{ id: 'usr_a' }, { id: 'usr_b' }, { id: 'usr_c' }];
    expect(toPage(rows, 2)).toEqual({ items: rows.slice(0, 2), hasMore: true, nextCursor: encodeCursor('usr_b') });
    expect(toPage(rows, 3)).toEqual({ items: rows, hasMore: false, nextCursor: null });
  });
});
