import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { startRedisCluster, type LocalRedisCluster } from '../../../test/support/redis-cluster.ts';
import { baseConfigSchema } from './config.ts';
import { newMigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';
import { closeRedis, createRedis, type RedisClient } from './redis.ts';

// The event log writes a migration's log and reads its record in one script: on
// Redis Cluster both keys must hash to one slot, which the prefix's hash tag ensures.

const STARTUP_TIMEOUT_MS = 60_000;

let cluster: LocalRedisCluster;
let client: RedisClient;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await closeRedis(client);
  await cluster.stop();
});

describe('migration event log on Redis Cluster', () => {
  it('logs, reads and expires events beside the record, whatever master serves them', async () => {
    const prefix = `{aso-test-${randomUUID().slice(0, 8)}}`;
    const config = baseConfigSchema.parse({
      REDIS_CLUSTER_NODES: cluster.nodes,
      ASO_KEY_PREFIX: prefix,
    });
    client = createRedis(config, 'producer', 'events-cluster-test');
    const store = new MigrationStore(client, prefix, { retentionSeconds: 120 });

    // Several migrations, so that a key built outside the hash tag would cross slots.
    for (let i = 0; i < 5; i++) {
      const record = newMigrationRecord(
        randomUUID(),
        { ...SAMPLE_REQUEST, pod_name: `pod-${String(i)}` },
        new Date(),
      );
      await store.create(record);
      const first = await store.events.append({
        type: 'accepted',
        migration_id: record.migration_id,
        at: new Date().toISOString(),
        stage: null,
        status: 'pending',
        message: 'accepted',
      });
      await store.requestCancel(record.migration_id);

      const log = await store.events.read(record.migration_id, null);
      expect(log.map((logged) => logged.event.type)).toEqual([
        'accepted',
        'cancel-requested',
        'cancelled',
      ]);
      expect((await store.events.read(record.migration_id, first)).length).toBe(2);
      const ttl = await client.pttl(`${prefix}:migration:${record.migration_id}:events`);
      expect(ttl).toBeGreaterThan(100_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
    }
  });
});
