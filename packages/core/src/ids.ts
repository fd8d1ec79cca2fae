import { randomBytes } from 'node:crypto';
import { ID_PREFIXES, type IdKind } from '@scaibunker/contracts';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const RANDOM_CHARS = 16;

// The last id's time and random part. Ids made in the same millisecond (or while the clock
// steps back) reuse that time and add one to the random part, so ids made by one process
// always sort in creation order — lists and audit pages rely on it. Process-wide on purpose:
// it is the monotonic clock of id generation, not configuration.
let lastMs = -1;
let lastRandom = 0n;

/**
 * A new id of the given kind: 10 chars of millisecond time then 16 random chars, so ids sort
 * by creation time and serve as stable pagination cursors.
 */
export function newId(kind: IdKind, nowMs: number = Date.now()): string {
  if (nowMs > lastMs) {
    lastMs = nowMs;
    lastRandom = BigInt(`0x${randomBytes(10).toString('hex')}`) & ((1n << 80n) - 1n);
    // Leave headroom so the increments below never overflow the 80 bits.
    lastRandom >>= 1n;
  } else {
    lastRandom += 1n;
  }
  return `${ID_PREFIXES[kind]}_${encode(BigInt(lastMs), 10)}${encode(lastRandom, RANDOM_CHARS)}`;
}

/** `count` random Crockford base32 chars. */
export function randomChars(count: number): string {
  const bytes = randomBytes(count);
  let out = '';
  for (const b of bytes) out += CROCKFORD[b & 31];
  return out;
}

function encode(value: bigint, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = CROCKFORD[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}
