/** Prefixes of every id kind; ids are `prefix_` + 26 lowercase Crockford base32 chars. */
export const ID_PREFIXES = {
  apiKey: 'sgk',
  request: 'req',
  partner: 'prt',
  tenant: 'ten',
  user: 'usr',
  group: 'grp',
  grant: 'pgr',
  audit: 'aud',
  bunker: 'bnk',
  worker: 'wrk',
  image: 'img',
  snapshot: 'snp',
  quotaProfile: 'qp',
  quotaAssignment: 'qpa',
  availabilityGroup: 'ag',
  bridge: 'brg',
} as const;

/** An id kind, e.g. `user`. */
export type IdKind = keyof typeof ID_PREFIXES;

/** JSON-schema pattern that an id of the given kind matches. */
export function idPattern(kind: IdKind): string {
  return `^${ID_PREFIXES[kind]}_[0-9a-hjkmnp-tv-z]{26}$`;
}
