import { randomUUID } from 'node:crypto';

import { Queue, Worker } from 'bullmq';

import type { Logger } from '../logger.ts';
import type { RedisClient } from '../redis.ts';
import { QUEUE_EVENTS_MAX_LEN } from '../stage-queues.ts';

export const POLICY_QUEUE_NAME = 'policy-evaluation';
const SCHEDULER_ID = 'evaluate-policies';

/** The lease lasts this many intervals, and is renewed each interval while a run goes on. */
export const LEASE_INTERVALS = 3;

/**
 * How long the lease lasts without renewal: a replica that dies mid-run (its
 * renewals stop with it) keeps the others from evaluating for at most this long.
 */
export function policyLeaseMs(intervalSeconds: number): number {
  return LEASE_INTERVALS * intervalSeconds * 1000;
}

/** Where the end of the latest evaluation is kept, for GET /api/v1/policies/:name. */
export function lastEvaluationKey(prefix: string): string {
  return `${prefix}:policy-evaluator-last-run`;
}

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
      const leaseMs = policyLeaseMs(options.intervalSeconds);
      const leased = await connection.set(leaseKey, token, 'PX', leaseMs, 'NX');
      if (leased === null) {
        options.onSkipped?.();
        return { skipped: true };
      }
      // A run longer than the lease keeps it while this process lives.
      const renewal = setInterval(() => {
        renewLease(connection, leaseKey, token, leaseMs).catch((err: unknown) => {
          logger.warn({ err }, 'policy evaluator lease could not be renewed');
        });
      }, options.intervalSeconds * 1000);
      try {
        await options.evaluate();
        await connection.set(lastEvaluationKey(prefix), new Date().toISOString());
      } finally {
        clearInterval(renewal);
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

/** Extends the lease only if this run still holds it. */
async function renewLease(
  redis: RedisClient,
  key: string,
  token: string,
  leaseMs: number,
): Promise<void> {
  await redis.eval(
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
    1,
    key,
    token,
    leaseMs,
  );
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
