import { Counter, Histogram, type Registry } from 'prom-client';

import { createMigrationMetrics } from '../metrics.ts';
import { POLICY_DECISIONS, type PolicyDecision } from './decision.ts';

export interface PolicyMetrics {
  countDecision(decision: PolicyDecision): void;
  /** A policy started a migration: counted with the gateway's, so started - finished stays true. */
  countMigrationStarted(): void;
  observeRun(seconds: number, outcome: 'evaluated' | 'skipped' | 'failed'): void;
}

/**
 * Decisions by kind, not by policy or pod: policy names are chosen by operators
 * and pods come and go, so neither is a bounded label. The evaluation's record in
 * Redis names them.
 */
export function createPolicyMetrics(registry: Registry): PolicyMetrics {
  const decisions = new Counter({
    name: 'aso_policy_decisions_total',
    help: 'Decisions of the load policies about a pod, by decision',
    labelNames: ['decision'],
    registers: [registry],
  });
  const runs = new Histogram({
    name: 'aso_policy_evaluation_seconds',
    help: 'Time one evaluation of every load policy took, by outcome',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const migrations = createMigrationMetrics(registry);
  // Every decision starts at zero, so that its first occurrence shows in increase().
  for (const decision of POLICY_DECISIONS) decisions.inc({ decision }, 0);

  return {
    countDecision: (decision) => {
      decisions.inc({ decision });
    },
    countMigrationStarted: () => {
      migrations.countStarted();
    },
    observeRun: (seconds, outcome) => {
      runs.observe({ outcome }, seconds);
    },
  };
}
