import { Cluster, type Redis } from 'ioredis';

import { QueueUnavailableError, RedisEvictionPolicyError } from './errors.ts';
import {
  closeRedis,
  createRedis,
  type RedisClient,
  type RedisRole,
  type RedisTarget,
} from './redis.ts';

/** The only maxmemory-policy under which Redis never drops a key to free memory. */
const REQUIRED_POLICY = 'noeviction';

/**
 * Refuses to start on a Redis that may evict keys: an evicted key is a queued job
 * or a migration record gone without a trace (BullMQ's production guide asks for
 * noeviction too). Opens a connection of its own with the service's role, so a
 * worker waits for Redis like its other connections while the gateway gives up at
 * once with QueueUnavailableError, and closes it afterwards.
 */
export async function requireNoEviction(
  target: RedisTarget,
  role: RedisRole,
  name: string,
): Promise<void> {
  const redis = createRedis(target, role, `${name}:policy-check`);
  try {
    await checkEvictionPolicy(redis);
  } catch (error) {
    if (error instanceof RedisEvictionPolicyError) throw error;
    throw new QueueUnavailableError(
      `could not read Redis's maxmemory-policy before starting (${errorMessage(error)}); ` +
        'check that Redis is up and that the REDIS_* settings point at it',
      { cause: error },
    );
  } finally {
    await closeRedis(redis);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Throws RedisEvictionPolicyError unless every master runs maxmemory-policy noeviction. */
export async function checkEvictionPolicy(redis: RedisClient): Promise<void> {
  for (const server of await mastersOf(redis)) {
    // INFO rather than CONFIG GET: managed services often disable CONFIG.
    const policy = infoField(await server.info('memory'), 'maxmemory_policy');
    if (policy !== REQUIRED_POLICY) throw new RedisEvictionPolicyError(addressOf(server), policy);
  }
}

/** The servers that hold data: the one server, or every master of a cluster. */
async function mastersOf(redis: RedisClient): Promise<Redis[]> {
  // The first reply also means a cluster has learned its slot map and its masters.
  await redis.ping();
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

function infoField(info: string, field: string): string | null {
  const line = info.split(/\r?\n/).find((entry) => entry.startsWith(`${field}:`));
  return line === undefined ? null : line.slice(field.length + 1).trim();
}

function addressOf(server: Redis): string {
  const { sentinels, name, host, port } = server.options;
  if (sentinels?.length) return `master ${name ?? '?'} (via Sentinel)`;
  return `${host ?? '?'}:${port ?? '?'}`;
}
