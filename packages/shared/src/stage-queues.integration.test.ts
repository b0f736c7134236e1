import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { closeRedis, createRedis, type RedisClient } from './redis.ts';
import { QUEUE_EVENTS_MAX_LEN, StageQueues } from './stage-queues.ts';

let redis: TestRedis;
let connection: RedisClient;
let queues: StageQueues;

beforeEach(() => {
  redis = testRedis();
  connection = createRedis(redis.url, 'producer', 'test:queues');
  queues = new StageQueues(connection, redis.prefix);
});

afterEach(async () => {
  await queues.close();
  await closeRedis(connection);
  await redis.cleanup();
});

describe('stage queues', () => {
  it('keep every event stream near its cap however many jobs pass', async () => {
    const queue = queues.queue('capture');
    const jobs = Array.from({ length: QUEUE_EVENTS_MAX_LEN * 2 }, () => randomUUID());

    for (const id of jobs) await queues.enqueue('capture', id);

    expect((await queue.getMeta()).maxLenEvents).toBe(QUEUE_EVENTS_MAX_LEN);
    expect(await queue.count()).toBe(jobs.length);
    // XADD trims approximately (whole stream nodes of ~100 entries), never below the cap.
    const length = await redis.redis.xlen(`${redis.prefix}:${queue.name}:events`);
    expect(length).toBeGreaterThanOrEqual(QUEUE_EVENTS_MAX_LEN);
    expect(length).toBeLessThan(QUEUE_EVENTS_MAX_LEN * 1.2);
  });
});
