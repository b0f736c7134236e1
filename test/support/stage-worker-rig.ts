import { randomUUID } from 'node:crypto';

import type { Worker } from 'bullmq';
import { Registry } from 'prom-client';

import {
  createLogger,
  createRedis,
  createStageMetrics,
  createStageWorker,
  MigrationStore,
  newMigrationRecord,
  StageQueues,
  type MigrationRecord,
  type StageHandler,
  type StagePayload,
} from '@aso/shared';

import { SAMPLE_REQUEST } from './sample-request.ts';
import { testRedis, type TestRedis } from './redis.ts';

/**
 * One stage worker test's store, queues and workers under a Redis prefix of its own,
 * with no other stage behind them: the test's handlers stand in for the stages.
 */
export class StageWorkerRig {
  readonly redis: TestRedis = testRedis();
  readonly store = new MigrationStore(
    createRedis(this.redis.url, 'worker', 'test:store'),
    this.redis.prefix,
  );
  readonly queues = new StageQueues(
    createRedis(this.redis.url, 'worker', 'test:queues'),
    this.redis.prefix,
  );
  readonly registry = new Registry();
  /** One set for all the rig's workers: a registry takes each metric name once. */
  private readonly metrics = createStageMetrics(this.registry);
  private readonly workers: Worker<StagePayload>[] = [];

  startWorker(handler: StageHandler, concurrency = 1): Worker<StagePayload> {
    const worker = createStageWorker({
      handler,
      connection: createRedis(this.redis.url, 'worker', 'test:worker'),
      prefix: this.redis.prefix,
      concurrency,
      store: this.store,
      queues: this.queues,
      metrics: this.metrics,
      logger: createLogger('stage-test', 'silent'),
    });
    this.workers.push(worker);
    void worker.run();
    return worker;
  }

  /** Stores the sample migration as the gateway would and queues its first stage. */
  async submit(options: { createdAt?: Date; podName?: string } = {}): Promise<MigrationRecord> {
    const request = { ...SAMPLE_REQUEST, pod_name: options.podName ?? SAMPLE_REQUEST.pod_name };
    const record = newMigrationRecord(randomUUID(), request, options.createdAt ?? new Date());
    await this.store.create(record);
    await this.queues.enqueue('capture', record.migration_id);
    return record;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
    await this.queues.close();
    await this.redis.cleanup();
  }
}

/** A stage run that lasts until its attempt is cancelled, the way a Ready wait does. */
export function untilCancelled(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => {
      reject(signal.reason as Error);
    });
  });
}
