import { Gauge, type Registry } from 'prom-client';

import type { Logger } from './logger.ts';
import { STAGES, type Stage } from './migration.ts';
import type { StageQueues } from './stage-queues.ts';

/** The BullMQ job states reported; each is one constant-time count in Redis. */
export const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'completed',
  'failed',
] as const;

/** A scrape must not hang on a slow Redis: past this it reports the last counts it had. */
const COUNT_TIMEOUT_MS = 2_000;

/**
 * Jobs in each stage queue by state, read when Prometheus scrapes: one BullMQ
 * getJobCounts call per queue (a handful of LLEN/ZCARD), whatever the queue holds.
 */
export function registerQueueDepth(
  registry: Registry,
  queues: StageQueues,
  logger?: Logger,
  stages: readonly Stage[] = STAGES,
): void {
  new Gauge({
    name: 'aso_stage_queue_jobs',
    help: 'Jobs in a stage queue by state, read from BullMQ when scraped',
    labelNames: ['stage', 'state'],
    registers: [registry],
    async collect() {
      const counts = await Promise.all(stages.map((stage) => countJobs(queues, stage, logger)));
      counts.forEach((count, index) => {
        const stage = stages[index];
        if (!count || !stage) return;
        for (const state of QUEUE_STATES) this.set({ stage, state }, count[state] ?? 0);
      });
    },
  });
}

async function countJobs(
  queues: StageQueues,
  stage: Stage,
  logger: Logger | undefined,
): Promise<Record<string, number> | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      resolve(null);
    }, COUNT_TIMEOUT_MS);
  });

  try {
    return await Promise.race([queues.queue(stage).getJobCounts(...QUEUE_STATES), timedOut]);
  } catch (err) {
    // Redis away: keep the last counts; readiness and the Redis alerts say why.
    logger?.warn({ err, stage }, 'could not count queue jobs');
    return null;
  } finally {
    clearTimeout(timer);
  }
}
