import { KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createKubeClients, createLogger, RedisEvictionPolicyError } from '@aso/shared';

import { startRedisServer, type LocalRedisServer } from '../../../test/support/redis-server.ts';
import { apiConfigSchema, startApi } from './server.ts';

let evicting: LocalRedisServer;
let changing: LocalRedisServer;

beforeAll(async () => {
  evicting = await startRedisServer({ args: ['--maxmemory-policy', 'volatile-ttl'] });
  changing = await startRedisServer({ args: ['--maxmemory-policy', 'noeviction'] });
}, 30_000);

afterAll(async () => {
  await evicting.stop();
  await changing.stop();
});

/** A cluster that is never contacted: nothing listens on port 1. */
function unreachableKube() {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return createKubeClients(kubeConfig);
}

function configFor(redisUrl: string) {
  return apiConfigSchema.parse({
    REDIS_URL: redisUrl,
    ASO_API_TOKENS: 'read-write:policy-test-token-0123456789',
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
}

async function readiness(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/ready`);
  return { status: response.status, body: await response.text() };
}

describe('API start-up', () => {
  it('refuses to start on a Redis that evicts keys', async () => {
    // Never contacted: the API refuses before it would ask Kubernetes anything.
    const start = startApi(
      configFor(evicting.url),
      unreachableKube(),
      createLogger('api', 'silent'),
    );

    await expect(start).rejects.toBeInstanceOf(RedisEvictionPolicyError);
    await expect(start).rejects.toThrow('maxmemory-policy volatile-ttl');
  });

  it('starts while Redis is down, not ready until Redis answers', async () => {
    const api = await startApi(
      configFor('redis://127.0.0.1:1'),
      unreachableKube(),
      createLogger('api', 'silent'),
    );
    try {
      const answer = await readiness(api.url);

      expect(answer.status).toBe(503);
      expect(answer.body).toMatch(/"redis":\{"status":"failing"/);
    } finally {
      await api.close();
    }
  });

  it('turns not ready when the policy changes to an evicting one at run time', async () => {
    const api = await startApi(
      configFor(changing.url),
      unreachableKube(),
      createLogger('api', 'silent'),
    );
    try {
      const before = await readiness(api.url);
      const admin = new Redis(changing.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const after = await readiness(api.url);

      expect(before.body).toMatch(/"redis":\{"status":"ok"/);
      expect(after.status).toBe(503);
      expect(after.body).toMatch(/maxmemory-policy allkeys-lru/);
    } finally {
      await api.close();
    }
  });
});
