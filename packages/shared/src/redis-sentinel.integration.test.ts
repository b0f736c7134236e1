import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startRedisSentinel,
  type LocalRedisSentinel,
} from '../../../test/support/redis-sentinel.ts';
import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { baseConfigSchema } from './config.ts';
import { newMigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';
import { closeRedis, createRedis } from './redis.ts';
import { requireNoEviction } from './redis-policy.ts';
import { StageQueues } from './stage-queues.ts';

const request = SAMPLE_REQUEST;

let sentinel: LocalRedisSentinel;

beforeAll(async () => {
  sentinel = await startRedisSentinel(['--maxmemory-policy', 'noeviction']);
}, 60_000);

afterAll(async () => {
  await sentinel.stop();
});

describe('Redis Sentinel', () => {
  it('finds the master through the sentinel and keeps records and jobs there', async () => {
    const prefix = `aso-test-${randomUUID().slice(0, 8)}`;
    const config = baseConfigSchema.parse({
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_MASTER: sentinel.masterName,
      ASO_KEY_PREFIX: prefix,
    });
    await requireNoEviction(config, 'producer', 'sentinel-test');
    const storeRedis = createRedis(config, 'producer', 'sentinel-test:store');
    const queueRedis = createRedis(config, 'producer', 'sentinel-test:queues');
    const store = new MigrationStore(storeRedis, prefix);
    const queues = new StageQueues(queueRedis, prefix);

    const record = newMigrationRecord(randomUUID(), request, new Date());
    await store.create(record);
    await queues.enqueue('capture', record.migration_id);

    expect(storeRedis).toBeInstanceOf(Redis);
    expect((storeRedis as Redis).options.name).toBe(sentinel.masterName);
    // Read straight from the master: the data went where the sentinel pointed.
    const master = new Redis(sentinel.master.port, sentinel.master.host);
    expect(await master.exists(`${prefix}:migration:${record.migration_id}`)).toBe(1);
    expect(await queues.queue('capture').getJobState(record.migration_id)).toBe('waiting');

    master.disconnect();
    await queues.close();
    await Promise.all([storeRedis, queueRedis].map(closeRedis));
  });
});
