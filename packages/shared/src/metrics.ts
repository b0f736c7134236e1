import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

import {
  FINISHED_STATUSES,
  isFinished,
  STAGES,
  type FinishedStatus,
  type MigrationRecord,
  type Stage,
} from './migration.ts';

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
  /** A migration reached its end in this stage: its result, duration and savings. */
  countFinished(record: MigrationRecord): void;
  /**
   * Follows an attempt while it runs, so that one still running past its migration's
   * deadline shows; call the returned function when the attempt ends.
   */
  trackAttempt(stage: Stage, deadlineMs: number | null): () => void;
}

const STAGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface StageMetricsOptions {
  /** The stages this process works on: their series exist from the start, at zero. */
  stages?: readonly Stage[];
  /** The clock of the deadline gauge, in epoch ms. */
  now?: () => number;
}

export function createStageMetrics(
  registry: Registry,
  options: StageMetricsOptions = {},
): StageMetrics {
  const wait = new Histogram({
    name: 'aso_stage_wait_seconds',
    help: 'Time a stage job waited in its queue before a worker picked it up',
    labelNames: ['stage'],
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'aso_stage_duration_seconds',
    help: 'Time a worker spent on one attempt of a stage, by outcome',
    labelNames: ['stage', 'outcome'],
    buckets: STAGE_BUCKETS,
    registers: [registry],
  });
  const migrations = createMigrationMetrics(registry);
  const attempts = trackAttemptsPastDeadline(
    registry,
    options.stages ?? STAGES,
    options.now ?? Date.now,
  );

  return {
    observeWait: (stage, seconds) => {
      wait.observe({ stage }, seconds);
    },
    observeRun: (stage, outcome, seconds) => {
      duration.observe({ stage, outcome }, seconds);
    },
    countFinished: (record) => {
      migrations.countFinished(record);
    },
    trackAttempt: attempts,
  };
}

/**
 * Attempts in progress whose migration's deadline has passed, counted when scraped.
 * A healthy stage ends such an attempt at once (or finishes a switch already begun):
 * one that stays is stuck.
 */
function trackAttemptsPastDeadline(
  registry: Registry,
  stages: readonly Stage[],
  now: () => number,
): StageMetrics['trackAttempt'] {
  const running = new Set<{ stage: Stage; deadlineMs: number }>();

  new Gauge({
    name: 'aso_stage_attempts_past_deadline',
    help: 'Stage attempts running although their migration is past its deadline',
    labelNames: ['stage'],
    registers: [registry],
    collect() {
      this.reset();
      // Zero rather than absent, so that an alert on it can tell "none" from "no data".
      for (const stage of stages) this.set({ stage }, 0);
      const at = now();
      for (const attempt of running) {
        if (attempt.deadlineMs <= at) this.inc({ stage: attempt.stage });
      }
    },
  });

  return (stage, deadlineMs) => {
    if (deadlineMs === null) return () => undefined;
    const attempt = { stage, deadlineMs };
    running.add(attempt);
    return () => {
      running.delete(attempt);
    };
  };
}

export interface MigrationMetrics {
  /** The gateway accepted a migration (202, not a replay, not a dry run). */
  countStarted(): void;
  countFinished(record: MigrationRecord): void;
}

const MIGRATION_BUCKETS = [5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

/**
 * Migration counters. The gateway counts what it accepts and what a cancel ends at
 * once; the workers count the rest of the ends, so `started - finished` over all
 * services is what is still in flight. Each registry gets them once.
 */
export function createMigrationMetrics(registry: Registry): MigrationMetrics {
  const started = counter(registry, 'aso_migrations_started_total', 'Migrations accepted', []);
  const finished = counter(
    registry,
    'aso_migrations_finished_total',
    'Migrations that reached an end, by result',
    ['result'],
  );
  const duration = histogram(
    registry,
    'aso_migration_duration_seconds',
    'Time from acceptance to the end of a migration, by result',
    ['result'],
    MIGRATION_BUCKETS,
  );
  const cpu = counter(
    registry,
    'aso_migration_cpu_cores_total',
    'CPU of completed migrations before and after the move (requested, or measured when both sides were)',
    ['source', 'side'],
  );
  const memory = counter(
    registry,
    'aso_migration_memory_bytes_total',
    'Memory of completed migrations before and after the move (requested, or measured when both sides were)',
    ['source', 'side'],
  );

  // Known results start at zero, so that the first end of each shows in increase().
  for (const result of FINISHED_STATUSES) finished.inc({ result }, 0);

  return {
    countStarted: () => {
      started.inc();
    },
    countFinished: (record) => {
      // Only an ended record counts; the result comes from its status.
      if (!isFinished(record)) return;
      const result = record.status as FinishedStatus;
      finished.inc({ result });
      if (record.duration_ms !== null) duration.observe({ result }, record.duration_ms / 1000);
      if (result === 'completed') addResources(record, cpu, memory);
    },
  };
}

/**
 * Savings as before/after pairs rather than one "saved" counter: a measured saving
 * can be negative (the new pod uses more), which a counter cannot carry, and
 * `before - after` gives the exact saving over any range.
 */
function addResources(record: MigrationRecord, cpu: Counter, memory: Counter): void {
  const before = record.details.original_resources;
  const after = record.details.optimized_resources;
  if (!before || !after) return;

  const add = (
    source: string,
    side: string,
    figures: { cpu_millicores: number; memory_bytes: number },
  ) => {
    cpu.inc({ source, side }, figures.cpu_millicores / 1000);
    memory.inc({ source, side }, figures.memory_bytes);
  };
  add('requested', 'before', before.requested);
  add('requested', 'after', after.requested);
  if (before.measured.status === 'measured' && after.measured.status === 'measured') {
    add('measured', 'before', before.measured);
    add('measured', 'after', after.measured);
  }
}

/** The registry's counter of that name, created on first use (gateway routes build per app). */
function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function histogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  buckets: number[],
): Histogram {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}
