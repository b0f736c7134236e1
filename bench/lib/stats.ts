/**
 * The figures the report prints for each side of a comparison. Percentiles use the
 * nearest-rank method (the smallest sample with at least p % of the samples at or
 * below it), so every printed percentile is a value that was actually measured.
 */

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** The nearest-rank percentile of samples; p in (0, 100]. Throws on no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError('percentile must be in (0, 100]');

  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[rank - 1] as number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summary of no samples');

  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const value of samples) {
    sum += value;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: sum / samples.length,
    min,
    max,
  };
}

/**
 * subject / baseline; undefined when the baseline is zero (no ratio exists) so a
 * report never prints Infinity or NaN as if it were a measurement.
 */
export function ratio(subject: number, baseline: number): number | undefined {
  if (baseline === 0) return subject === 0 ? 1 : undefined;
  return subject / baseline;
}
