/** Commands run as this account of the image unless the caller asks (and may ask) for another. */
const DEFAULT_USER = 'user';
/** Who commands run as in an image without that account. */
const FALLBACK_IDS = { uid: 1000, gid: 1000 };

/**
 * Whom a guest command runs as: the account asked for, resolved by the agent from the image's
 * own /etc/passwd (an unknown one is a VALIDATION_ERROR); unasked, the image's `user`, or
 * uid/gid 1000 in an image without one.
 */
export function runAs(user: string | undefined): { user: string; uid?: number; gid?: number } {
  return user === undefined ? { user: DEFAULT_USER, ...FALLBACK_IDS } : { user };
}
