import { Redis } from 'ioredis';

import type { Logger } from './logger.ts';

export type RedisRole = 'worker' | 'producer' | 'store';

/**
 * Creates a Redis connection suited to its role, as BullMQ's connection guide asks:
 * a worker's blocking connection must retry forever (maxRetriesPerRequest null),
 * while the gateway's commands give up after one reconnection attempt, so that a
 * request gets a 503 instead of hanging while Redis is away.
 */
export function createRedis(url: string, role: RedisRole, name: string, logger?: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    // RESP2 keeps the reply shapes BullMQ's scripts expect.
    protocol: 2,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });

  // Without a listener ioredis reports every failed reconnection as unhandled. One
  // line per outage is enough: reconnection attempts repeat every few seconds.
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ err, connection: name }, 'redis connection lost, reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info({ connection: name }, 'redis connection restored');
  });
  return redis;
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
