/**
 * An event time as the kernel tools print it, `SECONDS.FRACTION` (tcpdump's `-tt`,
 * conntrack's `[…]` timestamps: microseconds), as an ISO timestamp to the millisecond.
 */
export function isoFromEpochText(seconds: string, fraction: string): string {
  return new Date(Number(seconds) * 1000 + Math.floor(Number(fraction.padEnd(6, '0').slice(0, 6)) / 1000)).toISOString();
}
