import { randomUUID } from 'node:crypto';

import type { Worker } from 'bullmq';
import { KubeConfig } from '@kubernetes/client-node';
import { Cluster } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { startRedisCluster, type LocalRedisCluster } from '../../../test/support/redis-cluster.ts';
import { baseConfigSchema } from './config.ts';
import { ConfigError } from './errors.ts';
import { createKubeClients } from './kube.ts';
import { createLogger } from './logger.ts';
import { createStageMetrics } from './metrics.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';
import type { StagePayload } from './queues.ts';
import { closeRedis, createRedis, type RedisClient } from './redis.ts';
import { StageQueues } from './stage-queues.ts';
import { createStageWorker } from './stage-worker.ts';
import { startWorkerService, workerConfigSchema } from './worker-service.ts';

const request = SAMPLE_REQUEST;

const STARTUP_TIMEOUT_MS = 60_000;

let cluster: LocalRedisCluster;
const clients: RedisClient[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all(clients.splice(0).map(closeRedis));
  await cluster.stop();
});

/** A connection made exactly as the services make theirs, from the same settings. */
function connect(prefix: string, role: 'worker' | 'producer' = 'worker'): RedisClient {
  const config = baseConfigSchema.parse({
    REDIS_CLUSTER_NODES: cluster.nodes,
    ASO_KEY_PREFIX: prefix,
  });
  const client = createRedis(config, role, 'cluster-test');
  clients.push(client);
  return client;
}

function tenantPrefix(): string {
  return `{aso-test-${randomUUID().slice(0, 8)}}`;
}

function record(pod = `pod-${randomUUID().slice(0, 8)}`): MigrationRecord {
  return newMigrationRecord(randomUUID(), { ...request, pod_name: pod }, new Date());
}

/** Every key the system wrote under the prefix, from every master. */
async function keysUnder(client: RedisClient, prefix: string): Promise<string[]> {
  if (!(client instanceof Cluster)) throw new Error('expected a cluster connection');
  const perMaster = await Promise.all(
    client.nodes('master').map((node) => node.keys(`${prefix}*`)),
  );
  return perMaster.flat();
}

describe('Redis Cluster', () => {
  it('connects with the Cluster client when REDIS_CLUSTER_NODES is set', () => {
    expect(connect(tenantPrefix())).toBeInstanceOf(Cluster);
  });

  it('stores, updates and lists migrations with one hash slot for all keys', async () => {
    const prefix = tenantPrefix();
    const redis = connect(prefix);
    const store = new MigrationStore(redis, prefix);
    const first = record();
    const second = record();

    await store.create(first);
    await store.create(second);
    await store.update(first.migration_id, (r) => {
      r.status = 'running';
      r.message = 'capture stage running';
    });

    const listed = await store.list(10);
    expect(listed.map((r) => r.migration_id).sort()).toEqual(
      [first.migration_id, second.migration_id].sort(),
    );
    expect(await store.require(first.migration_id)).toMatchObject({ status: 'running' });

    const keys = await keysUnder(redis, prefix);
    const slots = new Set(
      await Promise.all(keys.map((key) => (redis as Cluster).cluster('KEYSLOT', key))),
    );
    expect(keys.length).toBeGreaterThan(2);
    expect(slots.size).toBe(1);
  });

  it('keeps one migration per pod across concurrent writers (WATCH/MULTI on the cluster)', async () => {
    const prefix = tenantPrefix();
    const stores = [0, 1, 2].map(() => new MigrationStore(connect(prefix), prefix));
    const attempts = stores.map((store) => store.create(record('contested-pod')));

    const outcomes = await Promise.allSettled(attempts);

    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused.map((o) => (o.reason as Error).name)).toEqual([
      'MigrationInProgressError',
      'MigrationInProgressError',
    ]);
  });

  it('hands a migration from one stage to the next through the queues', async () => {
    const prefix = tenantPrefix();
    const store = new MigrationStore(connect(prefix), prefix);
    const queues = new StageQueues(connect(prefix), prefix);
    const worker = createStageWorker({
      handler: {
        stage: 'capture',
        honoursDeadline: true,
        run: () => Promise.resolve({ next: { stage: 'pod' } }),
      },
      connection: connect(prefix),
      prefix,
      concurrency: 1,
      store,
      queues,
      metrics: createStageMetrics(new Registry()),
      logger: createLogger('cluster-test', 'silent'),
    });
    const done = completedOnce(worker);
    void worker.run();

    const migration = record();
    await store.create(migration);
    await queues.enqueue('capture', migration.migration_id);
    await done;

    expect(await store.require(migration.migration_id)).toMatchObject({
      stage: 'pod',
      message: 'handed to the pod stage',
    });
    expect(await queues.queue('pod').getJobState(migration.migration_id)).toBe('waiting');
    await worker.close();
    await queues.close();
  });

  it('runs a stage worker service wired from REDIS_CLUSTER_NODES, as in production', async () => {
    const prefix = tenantPrefix();
    const config = workerConfigSchema.parse({
      REDIS_CLUSTER_NODES: cluster.nodes,
      ASO_KEY_PREFIX: prefix,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    const running = await startWorkerService({
      service: 'cluster-test',
      config,
      kube: createKubeClients(unusedKubeConfig()),
      logger: createLogger('cluster-test', 'silent'),
      handler: {
        stage: 'metrics',
        honoursDeadline: false,
        run: async (context) => {
          await context.store.update(context.record.migration_id, (r) => {
            r.message = 'measured on the cluster';
          });
          return {};
        },
      },
    });

    const store = new MigrationStore(connect(prefix), prefix);
    const queues = new StageQueues(connect(prefix), prefix);
    const migration = record();
    await store.create(migration);
    await queues.enqueue('metrics', migration.migration_id);

    await expect
      .poll(() => queues.queue('metrics').getJobState(migration.migration_id))
      .toBe('completed');
    expect((await store.require(migration.migration_id)).message).toBe('measured on the cluster');
    await queues.close();
    await running.close();
  });

  it('admits, cancels and replays idempotency keys, with no transaction lost to a stray WATCH', async () => {
    const prefix = tenantPrefix();
    const store = new MigrationStore(connect(prefix), prefix);
    const caps = { total: 2, perSourceNode: 2 };
    const claim = { key: 'client-key', fingerprint: 'digest' };

    const first = record();
    expect((await store.create(first, claim)).replayed).toBe(false);
    expect((await store.create(record(), claim)).record.migration_id).toBe(first.migration_id);
    const admitted = [];
    for (let i = 0; i < 4; i++) {
      const next = record();
      await store.create(next);
      admitted.push((await store.admit(next, caps)).admitted);
    }
    const cancelled = await store.requestCancel(first.migration_id);
    const withdrawn = record();
    await store.create(withdrawn);
    await store.discard(withdrawn);

    expect(admitted).toEqual([true, true, false, false]);
    expect(cancelled.status).toBe('cancelled');
    expect(await store.get(withdrawn.migration_id)).toBeNull();
    expect((await store.stats()).total).toBe(5);
  });

  it('leaves no WATCH behind a refused create to abort a later withdrawal', async () => {
    const prefix = tenantPrefix();
    const store = new MigrationStore(connect(prefix), prefix);
    const other = new MigrationStore(connect(prefix), prefix);

    // A bare UNWATCH reaches a random master: several rounds make a miss near certain.
    for (let round = 0; round < 6; round++) {
      const pod = `watched-${String(round)}`;
      const stranger = record();
      const held = record(pod);
      await other.create(stranger);
      await store.create(held);
      await expect(store.create(record(pod))).rejects.toThrow(/already being migrated/);
      await other.requestCancel(held.migration_id);

      await store.discard(stranger);

      expect(await store.get(stranger.migration_id)).toBeNull();
    }
  });

  it('refuses queues under a prefix without a hash tag', () => {
    const redis = connect('{aso}');

    expect(() => new StageQueues(redis, 'aso-untagged')).toThrow(ConfigError);
  });

  it('refuses cluster settings whose prefix has no hash tag', () => {
    const config = baseConfigSchema.parse({ REDIS_CLUSTER_NODES: cluster.nodes });

    expect(() => createRedis(config, 'worker', 'cluster-test')).toThrow(/ASO_KEY_PREFIX=\{aso\}/);
  });
});

function completedOnce(worker: Worker<StagePayload>): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('completed', () => {
      resolve();
    });
    worker.once('failed', (_job, err) => {
      reject(err);
    });
  });
}

/** A kubeconfig that is never contacted: the stage handlers here make no Kubernetes call. */
function unusedKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return kubeConfig;
}
