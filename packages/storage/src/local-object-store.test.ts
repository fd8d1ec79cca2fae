import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from './local-object-store.js';

describe('the local object store', () => {
  const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'scaibunker-objects-')));

  it('puts, gets and lists objects by prefix in key order, after a key, up to a limit', async () => {
    await store.put('a/b/2.ndjson', 'two');
    await store.put('a/b/1.ndjson', Buffer.from('one'));
    await store.put('a/c/3.ndjson', 'three');
    expect((await store.get('a/b/1.ndjson'))?.toString()).toBe('one');
    expect(await store.get('a/b/none')).toBeUndefined();
    expect(await store.list('a/b')).toEqual(['a/b/1.ndjson', 'a/b/2.ndjson']);
    expect(await store.list('a/', { after: 'a/b/1.ndjson', limit: 2 })).toEqual(['a/b/2.ndjson', 'a/c/3.ndjson']);
    expect(await store.list('nothing/here')).toEqual([]);
    expect(readdirSync(join(store.root, 'a/b')).some((f) => f.includes('partial'))).toBe(false);
  });

  it('refuses keys that could leave its directory', async () => {
    for (const key of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'sp ace']) {
      await expect(store.put(key, 'x'), key).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    }
  });
});
