import { createHash, timingSafeEqual } from 'node:crypto';
import { newId, randomChars } from './ids.js';

/** A freshly minted API key: its id, the one-time secret, and the hash to store. */
export interface MintedApiKey {
  id: string;
  secret: string;
  secretHash: string;
}

const SECRET_PATTERN = /^(sgk_[0-9a-z]{26})\.([0-9a-z]{40})$/;

/**
 * Mints an API key. The secret is `<id>.<40 random chars>` (200 bits), so lookup is by id and
 * a plain SHA-256 of the secret is safe to store: there is nothing to brute-force.
 */
export function mintApiKey(): MintedApiKey {
  const id = newId('apiKey');
  const secret = `${id}.${randomChars(40)}`;
  return { id, secret, secretHash: hashSecret(secret) };
}

/** The key id inside a presented secret, or null when it is not shaped like one. */
export function apiKeyIdOf(secret: string): string | null {
  return SECRET_PATTERN.exec(secret)?.[1] ?? null;
}

/** The stored hash of a secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** A worker's credential: `<worker id>.<40 random chars>`, stored as its SHA-256 like an API key's. */
export function mintWorkerToken(): { workerId: string; token: string; tokenHash: string } {
  const workerId = newId('worker');
  const token = `${workerId}.${randomChars(40)}`;
  return { workerId, token, tokenHash: hashSecret(token) };
}

const WORKER_TOKEN_PATTERN = /^(wrk_[0-9a-z]{26})\.([0-9a-z]{40})$/;

/** The worker id inside a presented worker token, or null when it is not shaped like one. */
export function workerIdOf(token: string): string | null {
  return WORKER_TOKEN_PATTERN.exec(token)?.[1] ?? null;
}
