import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createKubeClients, createLogger, RedisEvictionPolicyError } from '@aso/shared';

import { startRedisServer, type LocalRedisServer } from '../../../test/support/redis-server.ts';
import { apiConfigSchema, startApi } from './server.ts';

let evicting: LocalRedisServer;

beforeAll(async () => {
  evicting = await startRedisServer({ args: ['--maxmemory-policy', 'volatile-ttl'] });
}, 30_000);

afterAll(async () => {
  await evicting.stop();
});

describe('API start-up', () => {
  it('refuses to start on a Redis that evicts keys', async () => {
    const config = apiConfigSchema.parse({
      REDIS_URL: evicting.url,
      ASO_API_TOKENS: 'read-write:policy-test-token-0123456789',
      PORT: '0',
      LOG_LEVEL: 'silent',
    });
    // Never contacted: the API refuses before it would ask Kubernetes anything.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'none' }],
      contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
      currentContext: 'none',
    });

    const start = startApi(config, createKubeClients(kubeConfig), createLogger('api', 'silent'));

    await expect(start).rejects.toBeInstanceOf(RedisEvictionPolicyError);
    await expect(start).rejects.toThrow('maxmemory-policy volatile-ttl');
  });
});
