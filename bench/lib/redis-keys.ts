/**
 * Key prefixes of the benchmark's own on a shared Redis, and their removal, so a
 * measure leaves nothing behind and never touches another user's keys.
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

export function benchPrefix(measure: string): string {
  return `aso-bench-${measure}-${randomUUID().slice(0, 8)}`;
}

/** Every key under `${prefix}:`, found with SCAN (never KEYS, which blocks a shared server). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under the prefixes, on a connection of its own. */
export async function removePrefixes(redisUrl: string, prefixes: string[]): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    for (const prefix of prefixes) {
      const keys = await keysUnder(redis, prefix);
      for (let start = 0; start < keys.length; start += 500) {
        await redis.unlink(...keys.slice(start, start + 500));
      }
    }
  } finally {
    await redis.quit();
  }
}
