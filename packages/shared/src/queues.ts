import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

import type { Stage } from './migration.ts';

/** One BullMQ queue per stage. */
export const QUEUE_NAMES: Record<Stage, string> = {
  capture: 'migration-capture',
  pod: 'migration-pod',
  metrics: 'migration-metrics',
};

/**
 * Every stage job carries only the migration id: the migration record in Redis is
 * the single source of truth, so a retried or redelivered job always sees the
 * latest state instead of a stale copy.
 */
export const stagePayloadSchema = z.strictObject({
  migrationId: z.uuid(),
});

export type StagePayload = z.output<typeof stagePayloadSchema>;

/** The payload each stage queue carries; all equal today, kept apart so they may diverge. */
export interface StagePayloads {
  capture: StagePayload;
  pod: StagePayload;
  metrics: StagePayload;
}

/** Attempts per stage job; only transient failures (network, 5xx) are retried. */
export const STAGE_ATTEMPTS = 3;

/** Base delay of the exponential back-off between attempts. */
export const STAGE_BACKOFF_MS = 2_000;

export function stageJobOptions(migrationId: string, delayMs = 0): JobsOptions {
  return {
    // The migration id as job id makes a duplicate hand-off a no-op.
    jobId: migrationId,
    attempts: STAGE_ATTEMPTS,
    backoff: { type: 'exponential', delay: STAGE_BACKOFF_MS },
    delay: delayMs,
    // The migration record outlives the jobs, so finished jobs need not be kept long.
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
