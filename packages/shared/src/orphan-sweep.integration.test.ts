import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { createLogger } from './logger.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';
import { sweepOnce, type OrphanSweepOptions } from './orphan-sweep.ts';
import { createRedis } from './redis.ts';
import { StageQueues } from './stage-queues.ts';

const request = SAMPLE_REQUEST;

let redis: TestRedis;
let options: OrphanSweepOptions;

beforeEach(() => {
  redis = testRedis();
  options = {
    store: new MigrationStore(createRedis(redis.url, 'worker', 'test:store'), redis.prefix),
    queues: new StageQueues(createRedis(redis.url, 'worker', 'test:queues'), redis.prefix),
    logger: createLogger('sweep-test', 'silent'),
    intervalMs: 1_000,
    minAgeMs: 60_000,
  };
});

afterEach(async () => {
  await options.queues.close();
  await redis.cleanup();
});

async function stored(podName: string, ageMs: number): Promise<MigrationRecord> {
  const record = newMigrationRecord(
    randomUUID(),
    { ...request, pod_name: podName },
    new Date(Date.now() - ageMs),
  );
  await options.store.create(record);
  return record;
}

describe('orphan sweep', () => {
  it('queues the capture job of a pending migration the gateway stored but never queued', async () => {
    // The gateway died between the record and the job: the pod stays locked until swept.
    const orphan = await stored('orphan', 120_000);
    const queued = await stored('queued', 120_000);
    await options.queues.enqueue('capture', queued.migration_id);
    // Too young: its gateway may still be about to queue it.
    await stored('fresh', 1_000);
    const running = await stored('running', 120_000);
    await options.store.update(running.migration_id, (r) => {
      r.status = 'running';
    });

    const requeued = await sweepOnce(options);
    const again = await sweepOnce(options);

    expect(requeued).toEqual([orphan.migration_id]);
    expect(again).toEqual([]);
    const counts = await options.queues.queue('capture').getJobCounts('waiting');
    expect(counts['waiting']).toBe(2);
  });
});
