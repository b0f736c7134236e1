import { describe, expect, it } from 'vitest';

import { computeKpis, percentile } from './kpis.ts';

describe('kpis', () => {
  it('takes the nearest-rank percentile', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(values, 0.95)).toBe(19);
    expect(percentile([5], 0.95)).toBe(5);
    expect(percentile([], 0.95)).toBeNull();
  });

  it('derives counts, rates and savings from the totals, cancels outside the rate', () => {
    const kpis = computeKpis({
      total: 6,
      completed: 3,
      cancelled: 1,
      failed: 1,
      durations_ms: [3000, 1000, 2000],
      savings: { requested_count: 3, requested_cpu_millicores: 1500, requested_memory_bytes: 1024 },
    });

    expect(kpis).toEqual({
      total: 6,
      succeeded: 3,
      cancelled: 1,
      failed: 1,
      in_flight: 1,
      success_rate: 0.75,
      duration_ms: { mean: 2000, p95: 3000, samples: 3 },
      savings: {
        requested: { cpu_millicores: 1500, memory_bytes: 1024, migrations: 3 },
        measured: { cpu_millicores: 0, memory_bytes: 0, migrations: 0 },
      },
    });
  });

  it('has no rate or durations before anything finished', () => {
    const kpis = computeKpis({
      total: 0,
      completed: 0,
      cancelled: 0,
      failed: 0,
      durations_ms: [],
      savings: {},
    });
    expect(kpis.success_rate).toBeNull();
    expect(kpis.duration_ms).toEqual({ mean: null, p95: null, samples: 0 });
  });
});
