import { ScaiError } from '@scaibunker/contracts';

/** Object storage as the platform uses it: whole objects by key, listed by prefix in key order. */
export interface ObjectStore {
  /** Writes an object whole; readers see the old one or the new one, never a part. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** An object's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Keys under `prefix` in lexicographic order, those after `after` only, at most `limit`. */
  list(prefix: string, options?: { after?: string | undefined; limit?: number | undefined }): Promise<string[]>;
}

const SEGMENT = /^[A-Za-z0-9._-]{1,200}$/;

/** A key is `/`-separated segments of letters, digits, `.`, `_`, `-`; never `.` or `..`. */
export function checkObjectKey(key: string): string {
  const segments = key.split('/');
  if (key.length > 1024 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new ScaiError('VALIDATION_ERROR', `Not an object key: "${key.slice(0, 100)}".`);
  }
  return key;
}
