import { Cluster, Redis } from 'ioredis';

import type { Logger } from './logger.ts';
import { resolveRedisTopology, type RedisSettings, type RedisTopology } from './redis-topology.ts';

export type RedisRole = 'worker' | 'producer' | 'store';

/** A connection to a single server (directly or through Sentinel) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** A Redis URL (a single server), or the Redis settings of a service's configuration. */
export type RedisTarget = string | RedisSettings;

/** Longest pause between two reconnection attempts, in ms. */
const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * Creates a Redis connection suited to its role, as BullMQ's connection guide asks:
 * a worker's blocking connection must retry forever (maxRetriesPerRequest null),
 * while the gateway's commands give up after one reconnection attempt, so that a
 * request gets a 503 instead of hanging while Redis is away. The topology (one
 * server, Sentinel or Cluster) comes from the settings; conflicting settings throw
 * ConfigError.
 */
export function createRedis(
  target: RedisTarget,
  role: RedisRole,
  name: string,
  logger?: Logger,
): RedisClient {
  const topology: RedisTopology =
    typeof target === 'string'
      ? { kind: 'standalone', url: target, credentials: {} }
      : resolveRedisTopology(target);

  const redis = connect(topology, role, name);
  reportOutages(redis, name, logger);
  return redis;
}

/** Options of every connection to a server, whatever the topology. */
function connectionOptions(role: RedisRole, name: string) {
  return {
    connectionName: name,
    // RESP2 keeps the reply shapes BullMQ's scripts expect.
    protocol: 2 as const,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    // Commands wait until the server has loaded its data set (BullMQ relies on it).
    enableReadyCheck: true,
  };
}

function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS);
}

function connect(topology: RedisTopology, role: RedisRole, name: string): RedisClient {
  const options = { ...connectionOptions(role, name), ...topology.credentials };

  if (topology.kind === 'standalone') {
    return new Redis(topology.url, { ...options, retryStrategy: reconnectDelay });
  }

  const tls = topology.tls ? { tls: {} } : {};
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...options,
      ...tls,
      retryStrategy: reconnectDelay,
      sentinels: topology.sentinels,
      name: topology.master,
      role: 'master',
      enableTLSForSentinelMode: topology.tls,
      ...(topology.sentinelPassword === undefined
        ? {}
        : { sentinelPassword: topology.sentinelPassword }),
      sentinelRetryStrategy: reconnectDelay,
    });
  }

  // BullMQ reads maxRetriesPerRequest of a cluster from its redisOptions, and every
  // node connection is made with them; the cluster itself owns reconnection.
  return new Cluster(topology.nodes, {
    redisOptions: { ...options, ...tls },
    enableReadyCheck: true,
    // Writes and the store's reads must see the same data: never read from replicas.
    scaleReads: 'master',
    clusterRetryStrategy: reconnectDelay,
  });
}

/**
 * Without a listener ioredis reports every failed reconnection as unhandled. One
 * line per outage is enough: reconnection attempts repeat every few seconds.
 */
function reportOutages(redis: RedisClient, name: string, logger: Logger | undefined): void {
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
}

export async function closeRedis(redis: RedisClient): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
