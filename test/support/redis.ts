import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

/** The Redis the tests use: REDIS_URL, or the local default. */
export const TEST_REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** A key prefix of its own, so tests never share keys. */
  prefix: string;
  redis: Redis;
  /** Deletes every key under the prefix and closes the connection. */
  cleanup(): Promise<void>;
}

export function testRedis(): TestRedis {
  const prefix = `aso-test-${randomUUID().slice(0, 8)}`;
  const redis = new Redis(TEST_REDIS_URL, { protocol: 2, maxRetriesPerRequest: 1 });

  return {
    url: TEST_REDIS_URL,
    prefix,
    redis,
    async cleanup() {
      const keys = await scanAll(redis, `${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}
