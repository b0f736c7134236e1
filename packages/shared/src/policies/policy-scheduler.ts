import { randomUUID } from 'node:crypto';

import { Queue, Worker } from 'bullmq';

import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis.ts';
import { QUEUE_EVENTS_MAX_LEN } from '../stage-queues.ts';

export const POLICY_QUEUE_NAME = 'policy-evaluation';
const SCHEDULER_ID = 'evaluate-policies';

/**
 * Longest time one evaluation holds the lease. A run that outlives it (hung on an
 * unreachable API server) lets the next one start rather than stopping every policy.
 */
const LEASE_MS = 5 * 60_000;

export interface PolicySchedulerOptions {
  /** The worker's blocking connection: it must not be shared. */
  workerConnection: RedisClient;
  /** Commands of the queue and the lease. */
  connection: RedisClient;
  prefix: string;
  intervalSeconds: number;
  /** One evaluation of every policy. */
  evaluate: () => Promise<void>;
  /** An evaluation skipped because another replica's still runs. */
  onSkipped?: () => void;
  logger: Logger;
}

export interface PolicyScheduler {
  close(): Promise<void>;
}

/**
 * Runs the evaluation every interval, once across all replicas: a BullMQ job
 * scheduler (upserted by every replica under one id) makes one job per interval,
 * and whichever worker takes it evaluates. A lease in Redis keeps two runs from
 * overlapping when one takes longer than the interval.
 */
export async function startPolicyScheduler(
  options: PolicySchedulerOptions,
): Promise<PolicyScheduler> {
  const { connection, prefix, logger } = options;
  const queue = new Queue(POLICY_QUEUE_NAME, {
    connection,
    prefix,
    streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
  });
  queue.on('error', (err) => {
    logger.warn({ err, queue: POLICY_QUEUE_NAME }, 'queue connection error');
  });
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: options.intervalSeconds * 1000 },
    {
      name: 'evaluate',
      data: {},
      opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 100, age: 24 * 3600 } },
    },
  );

  const leaseKey = `${prefix}:policy-evaluator-lease`;
  const worker = new Worker(
    POLICY_QUEUE_NAME,
    async function evaluatePoliciesJob() {
      const token = randomUUID();
      const leased = await connection.set(leaseKey, token, 'PX', LEASE_MS, 'NX');
      if (leased === null) {
        options.onSkipped?.();
        return { skipped: true };
      }
      try {
        await options.evaluate();
      } finally {
        await releaseLease(connection, leaseKey, token);
      }
      return { skipped: false };
    },
    { connection: options.workerConnection, prefix, concurrency: 1 },
  );
  worker.on('error', (err) => {
    logger.warn({ err, queue: POLICY_QUEUE_NAME }, 'policy worker error');
  });
  worker.on('failed', (_job, err) => {
    logger.warn({ err }, 'policy evaluation failed');
  });
  await worker.waitUntilReady();
  logger.info({ intervalSeconds: options.intervalSeconds }, 'policy evaluation scheduled');

  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** Deletes the lease only if this run still holds it (it may have lapsed and passed on). */
async function releaseLease(redis: RedisClient, key: string, token: string): Promise<void> {
  await redis.eval(
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
    1,
    key,
    token,
  );
}
