import { randomBytes } from 'node:crypto';
import { ID_PREFIXES, type IdKind } from '@scaibunker/contracts';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A new id of the given kind: 10 chars of millisecond time then 16 random chars, so ids sort
 * by creation time and serve as stable pagination cursors.
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${ID_PREFIXES[kind]}_${time}${randomChars(16)}`;
}

/** `count` random Crockford base32 chars. */
export function randomChars(count: number): string {
  const bytes = randomBytes(count);
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
}
