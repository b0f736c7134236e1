import type { MigrationStats } from '@aso/shared';

export interface Kpis {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  in_flight: number;
  success_rate: number | null;
  duration_ms: { mean: number | null; p95: number | null; samples: number };
  savings: {
    requested: SavingTotals;
    measured: SavingTotals;
  };
}

interface SavingTotals {
  cpu_millicores: number;
  memory_bytes: number;
  /** How many completed migrations these totals rest on. */
  migrations: number;
}

/** Key performance indicators from the running totals the store keeps. */
export function computeKpis(stats: MigrationStats): Kpis {
  const finished = stats.completed + stats.failed + stats.cancelled;
  const durations = [...stats.durations_ms].sort((a, b) => a - b);

  return {
    total: stats.total,
    succeeded: stats.completed,
    failed: stats.failed,
    cancelled: stats.cancelled,
    in_flight: Math.max(0, stats.total - finished),
    // A cancel is the operator's choice, not a failure: it does not weigh on the rate.
    success_rate:
      stats.completed + stats.failed > 0
        ? stats.completed / (stats.completed + stats.failed)
        : null,
    duration_ms: {
      mean: durations.length > 0 ? Math.round(sum(durations) / durations.length) : null,
      p95: percentile(durations, 0.95),
      samples: durations.length,
    },
    savings: {
      requested: totals(stats.savings, 'requested'),
      measured: totals(stats.savings, 'measured'),
    },
  };
}

function totals(savings: Record<string, number>, kind: 'requested' | 'measured'): SavingTotals {
  return {
    cpu_millicores: savings[`${kind}_cpu_millicores`] ?? 0,
    memory_bytes: savings[`${kind}_memory_bytes`] ?? 0,
    migrations: savings[`${kind}_count`] ?? 0,
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? null;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
