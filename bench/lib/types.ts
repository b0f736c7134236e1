/**
 * The contract between the benchmark's measures and its report. A measure runs the
 * product (A) and its baseline (B) in the same run, interleaved, after a warm-up, and
 * hands back the raw samples; the report computes p50, p99, counts and ratios itself,
 * so no measure can print a figure it did not sample.
 */
import type { LocalCluster } from '@aso/local-cluster';

/** Which way is better, for telling whether a ratio met its goal. */
export type Better = 'lower' | 'higher';

/** A goal on the ratio subject/baseline (of p50 unless `on` says p99). */
export interface Goal {
  /** The ratio must be at most this (for lower-is-better) or at least this (higher). */
  ratio: number;
  on: 'p50' | 'p99';
  /** How the goal reads in the report, e.g. "p99 at most 3 times the no-op route's". */
  text: string;
}

/** One A-against-B comparison, both sides sampled in this run. */
export interface Comparison {
  /** Stable id, e.g. "overhead.migration". */
  id: string;
  title: string;
  /** Unit of the samples, e.g. "ms", "requests", "migrations/min", "bytes", "cpu-s". */
  unit: string;
  better: Better;
  subject: { label: string; samples: number[] };
  baseline: { label: string; samples: number[] };
  goal?: Goal;
  /** Rounds of A and B run first and dropped (warm-up); printed beside n. */
  warmupRounds?: number;
  /** What limits the figure or how it was taken; shown under the comparison. */
  notes?: string[];
}

/** A table of plain measured values that is not itself a ratio (e.g. scaling points). */
export interface Series {
  id: string;
  title: string;
  /** Column names; every row has one value per column. */
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

/** What one measure (one numbered item of the benchmark) reports. */
export interface Section {
  /** The item's number in the benchmark issue (1..9), for ordering the report. */
  item: number;
  title: string;
  comparisons: Comparison[];
  series?: Series[];
  notes?: string[];
}

/** Options every measure receives. */
export interface BenchContext {
  /** Quick mode: few samples, for checking that the suite runs, not for figures. */
  quick: boolean;
  /** Writes a progress line to stderr. */
  log: (message: string) => void;
  /** The shared Redis (REDIS_URL, default 127.0.0.1:6379); use a key prefix of your own. */
  redisUrl: string;
  /**
   * The local control plane shared by every measure of the run: started on the first
   * call, stopped by the runner at the end. Rejects when its binaries are absent.
   */
  cluster: () => Promise<LocalCluster>;
}

export type Measure = (context: BenchContext) => Promise<Section>;
