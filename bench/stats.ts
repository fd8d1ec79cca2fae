/** Percentile summary of a set of samples (nearest-rank). */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

export function fmt(summary: Summary, unit = 'ms', digits = 1): string {
  return `p50 ${summary.p50.toFixed(digits)} ${unit}, p95 ${summary.p95.toFixed(digits)} ${unit} (n=${summary.n}, min ${summary.min.toFixed(digits)}, max ${summary.max.toFixed(digits)})`;
}
