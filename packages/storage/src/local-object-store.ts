import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkObjectKey, type ObjectStore } from './object-store.js';

/**
 * Objects as files under one directory (the embedded default): a key is a relative path.
 * Writes go to a temporary file renamed into place, so a crash never leaves half an object.
 */
export class LocalObjectStore implements ObjectStore {
  constructor(readonly root: string) {}

  async put(key: string, body: Buffer | string): Promise<void> {
    const path = join(this.root, checkObjectKey(key));
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const partial = `${path}.partial-${randomBytes(6).toString('hex')}`;
    await writeFile(partial, body, { mode: 0o600 });
    await rename(partial, path);
  }

  async get(key: string): Promise<Buffer | undefined> {
    return readFile(join(this.root, checkObjectKey(key))).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
      throw error;
    });
  }

  async list(prefix: string, options: { after?: string | undefined; limit?: number | undefined } = {}): Promise<string[]> {
    // A prefix names a directory here (keys are paths): list it, recursively, in key order.
    const base = prefix.replace(/\/+$/, '');
    if (base) checkObjectKey(base);
    const keys: string[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const key = keyPrefix ? `${keyPrefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(join(dir, entry.name), key);
        else if (entry.isFile() && !entry.name.includes('.partial-')) keys.push(key);
      }
    };
    await walk(join(this.root, base), base);
    keys.sort();
    const after = options.after;
    const from = after === undefined ? keys : keys.filter((key) => key > after);
    return from.slice(0, options.limit ?? from.length);
  }
}
