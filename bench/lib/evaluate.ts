/**
 * Turns a comparison's raw samples into the figures the report prints: each side's
 * summary, the ratios subject / baseline of p50 and p99, and whether the goal holds.
 */
import { ratio, summarize, type Summary } from './stats.ts';
import type { Comparison, Goal } from './types.ts';

/** A goal's outcome; `no samples` and `no ratio` say why none could be judged. */
export type Verdict = 'met' | 'MISSED' | 'no goal' | 'no samples' | 'no ratio';

export interface Evaluated {
  subject: Summary | undefined;
  baseline: Summary | undefined;
  ratioP50: number | undefined;
  ratioP99: number | undefined;
  verdict: Verdict;
}

export function evaluate(comparison: Comparison): Evaluated {
  const subject = summaryOf(comparison.subject.samples);
  const baseline = summaryOf(comparison.baseline.samples);
  if (subject === undefined || baseline === undefined) {
    return { subject, baseline, ratioP50: undefined, ratioP99: undefined, verdict: 'no samples' };
  }

  const ratioP50 = ratio(subject.p50, baseline.p50);
  const ratioP99 = ratio(subject.p99, baseline.p99);
  const goal = comparison.goal;
  const verdict =
    goal === undefined
      ? 'no goal'
      : judge(goal, comparison.better, goal.on === 'p50' ? ratioP50 : ratioP99);
  return { subject, baseline, ratioP50, ratioP99, verdict };
}

function judge(goal: Goal, better: Comparison['better'], value: number | undefined): Verdict {
  if (value === undefined) return 'no ratio';
  const met = better === 'lower' ? value <= goal.ratio : value >= goal.ratio;
  return met ? 'met' : 'MISSED';
}

function summaryOf(samples: readonly number[]): Summary | undefined {
  return samples.length === 0 ? undefined : summarize(samples);
}
