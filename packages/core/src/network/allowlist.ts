/**
 * `network_allowlist` entries (spec §4): plain hostnames and first-level wildcards
 * (`*.example.com`) only — no scheme, path, port, `**.` or mid-label `*` — of RFC 1035 labels
 * (letters, digits and hyphens, 1–63 characters, no hyphen at either end; a leading digit is
 * allowed, as RFC 1123 has it). Names are compared case-insensitively, so they are kept in
 * lower case, and a trailing root dot is dropped. The worker enforces the list by DNS
 * interception; what is checked here is only what can be said of a name on its own.
 */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A valid entry, normalised; or why it is not one. */
export type AllowlistEntryCheck = { ok: true; entry: string } | { ok: false; reason: string };

export function checkAllowlistEntry(raw: string): AllowlistEntryCheck {
  const refuse = (reason: string): AllowlistEntryCheck => ({ ok: false, reason });
  if (raw.includes('://')) return refuse('a hostname, not a URL: drop the scheme');
  if (raw.includes('/')) return refuse('a hostname only: no path');
  if (raw.includes('@')) return refuse('a hostname only: no user part');
  if (/^\[|:/.test(raw)) return refuse('a hostname only: no port (and no IPv6 address)');
  if (/\s/.test(raw)) return refuse('no spaces');
  let name = raw.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length === 0) return refuse('empty');
  if (name.length > 253) return refuse('longer than 253 characters');
  if (name.startsWith('**.')) return refuse('`**.` is not allowed: only a first-level wildcard, `*.example.com`');
  const wildcard = name.startsWith('*.');
  const labels = (wildcard ? name.slice(2) : name).split('.');
  if (labels.some((l) => l.includes('*'))) return refuse('`*` only as the whole first label, as in `*.example.com`');
  if (labels.length < 2) return refuse(wildcard ? 'a wildcard needs a domain of at least two labels, as in `*.example.com`' : 'a fully qualified name, such as `api.example.com`');
  for (const label of labels) {
    if (label.length === 0) return refuse('an empty label (two dots in a row, or a leading dot)');
    if (label.length > 63) return refuse(`the label "${label.slice(0, 20)}…" is longer than 63 characters`);
    if (!LABEL.test(label)) return refuse(`the label "${label}" is not letters, digits and inner hyphens`);
  }
  if (/^\d+$/.test(labels.at(-1)!)) return refuse('an IP address is not a hostname: allow the name it answers to');
  return { ok: true, entry: name };
}

/** Checks every entry; answers the normalised list (duplicates dropped) or one problem per bad entry. */
export function checkAllowlist(entries: readonly string[]): { ok: true; entries: string[] } | { ok: false; problems: { index: number; reason: string }[] } {
  const problems: { index: number; reason: string }[] = [];
  const kept = new Set<string>();
  entries.forEach((raw, index) => {
    const checked = checkAllowlistEntry(raw);
    if (checked.ok) kept.add(checked.entry);
    else problems.push({ index, reason: checked.reason });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, entries: [...kept] };
}

/**
 * Whether a queried name (lower case, no trailing dot) is allowed by normalised entries: an
 * exact name, or `*.domain` for a name exactly one label below `domain` (`a.pkg.example.com`
 * matches `*.pkg.example.com`; `pkg.example.com` and `a.b.pkg.example.com` do not).
 */
export function allowlistMatches(name: string, entries: readonly string[]): boolean {
  const dot = name.indexOf('.');
  const parent = dot > 0 ? name.slice(dot + 1) : undefined;
  return entries.some((entry) => entry === name || (parent !== undefined && entry.startsWith('*.') && entry.slice(2) === parent));
}
