import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startRedisCluster, type LocalRedisCluster } from '../../../test/support/redis-cluster.ts';
import { startRedisServer, type LocalRedisServer } from '../../../test/support/redis-server.ts';
import { baseConfigSchema } from './config.ts';
import { QueueUnavailableError, RedisEvictionPolicyError } from './errors.ts';
import { createKubeClients } from './kube.ts';
import { createLogger } from './logger.ts';
import { closeRedis, createRedis } from './redis.ts';
import { checkEvictionPolicy, requireNoEviction } from './redis-policy.ts';
import { startWorkerService, workerConfigSchema } from './worker-service.ts';

const STARTUP_TIMEOUT_MS = 60_000;

let evicting: LocalRedisServer;
let keeping: LocalRedisServer;

beforeAll(async () => {
  [evicting, keeping] = await Promise.all([
    startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] }),
    startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] }),
  ]);
}, STARTUP_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([evicting.stop(), keeping.stop()]);
});

/** A worker wired as in production, against one of this file's own servers. */
function startWorker(url: string) {
  const config = workerConfigSchema.parse({
    REDIS_URL: url,
    ASO_KEY_PREFIX: 'aso-policy-test',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
  });
  // Never contacted: the worker's handler below makes no Kubernetes call.
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });

  return startWorkerService({
    service: 'policy-test',
    config,
    kube: createKubeClients(kubeConfig),
    logger: createLogger('policy-test', 'silent'),
    handler: { stage: 'metrics', honoursDeadline: false, run: () => Promise.resolve({}) },
  });
}

describe('maxmemory-policy check', () => {
  it('refuses a Redis that evicts keys, saying how to fix it', async () => {
    const refusal = requireNoEviction(evicting.url, 'producer', 'test');

    await expect(refusal).rejects.toBeInstanceOf(RedisEvictionPolicyError);
    await expect(refusal).rejects.toThrow(
      `Redis 127.0.0.1:${evicting.port} runs maxmemory-policy allkeys-lru`,
    );
    await expect(refusal).rejects.toThrow('CONFIG SET maxmemory-policy noeviction');
    await expect(refusal).rejects.toThrow('"maxmemory-policy noeviction"');
  });

  it('says so when it cannot ask Redis at all', async () => {
    const refusal = requireNoEviction('redis://127.0.0.1:1', 'producer', 'test');

    await expect(refusal).rejects.toBeInstanceOf(QueueUnavailableError);
    await expect(refusal).rejects.toThrow("could not read Redis's maxmemory-policy");
  });

  it('keeps a stage worker from starting on an evicting Redis', async () => {
    await expect(startWorker(evicting.url)).rejects.toBeInstanceOf(RedisEvictionPolicyError);
  });

  it('lets a stage worker start on a noeviction Redis', async () => {
    await expect(requireNoEviction(keeping.url, 'producer', 'test')).resolves.toBeUndefined();

    const worker = await startWorker(keeping.url);
    await worker.close();
  });
});

describe('maxmemory-policy check on Redis Cluster', () => {
  let cluster: LocalRedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster(['--maxmemory-policy', 'noeviction']);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await cluster.stop();
  });

  it('checks every master, not just the one it reached first', async () => {
    const config = baseConfigSchema.parse({
      REDIS_CLUSTER_NODES: cluster.nodes,
      ASO_KEY_PREFIX: '{aso}',
    });
    await expect(requireNoEviction(config, 'worker', 'test')).resolves.toBeUndefined();

    // The third master only: a check of the seed node alone would miss it.
    const third = cluster.servers[2];
    if (!third) throw new Error('the cluster has three masters');
    const admin = createRedis(third.url, 'producer', 'test:admin');
    await admin.config('SET', 'maxmemory-policy', 'volatile-lru');
    await closeRedis(admin);

    const clusterClient = createRedis(config, 'producer', 'test:cluster');
    await expect(checkEvictionPolicy(clusterClient)).rejects.toThrow(
      `Redis 127.0.0.1:${third.port} runs maxmemory-policy volatile-lru`,
    );
    await closeRedis(clusterClient);
  });
});
