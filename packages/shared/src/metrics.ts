import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import type { FinishedStatus, Stage } from './migration.ts';

/** A registry per service, with the process metrics and a `service` label on everything. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** waited: held back by the caps on migrations in flight; cancelled: by an operator. */
export type StageOutcome = 'succeeded' | 'retried' | 'failed' | 'skipped' | 'waited' | 'cancelled';

export interface StageMetrics {
  observeWait(stage: Stage, seconds: number): void;
  observeRun(stage: Stage, outcome: StageOutcome, seconds: number): void;
  countFinished(result: FinishedStatus): void;
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createStageMetrics(registry: Registry): StageMetrics {
  const wait = new Histogram({
    name: 'aso_stage_wait_seconds',
    help: 'Time a stage job waited in its queue before a worker picked it up',
    labelNames: ['stage'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'aso_stage_duration_seconds',
    help: 'Time a worker spent on one attempt of a stage',
    labelNames: ['stage', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const finished = new Counter({
    name: 'aso_migrations_finished_total',
    help: 'Migrations that reached an end, by result',
    labelNames: ['result'],
    registers: [registry],
  });

  return {
    observeWait: (stage, seconds) => {
      wait.observe({ stage }, seconds);
    },
    observeRun: (stage, outcome, seconds) => {
      duration.observe({ stage, outcome }, seconds);
    },
    countFinished: (result) => {
      finished.inc({ result });
    },
  };
}
