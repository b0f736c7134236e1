import { Redis } from 'ioredis';

export type RedisRole = 'worker' | 'producer' | 'store';

/**
 * Creates a Redis connection suited to its role, as BullMQ's connection guide asks:
 * a worker's blocking connection must retry forever (maxRetriesPerRequest null),
 * while the gateway's connections fail fast so a request gets a 503 instead of hanging.
 */
export function createRedis(url: string, role: RedisRole, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    // RESP2 keeps the reply shapes BullMQ's scripts expect.
    protocol: 2,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
