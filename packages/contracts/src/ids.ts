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

const ID_REGEXES = new Map<IdKind, RegExp>();

/** Whether a value is an id of the given kind (what a peer sends is checked with it before use). */
export function isId(kind: IdKind, value: unknown): value is string {
  let regex = ID_REGEXES.get(kind);
  if (!regex) ID_REGEXES.set(kind, (regex = new RegExp(idPattern(kind))));
  return typeof value === 'string' && regex.test(value);
}
