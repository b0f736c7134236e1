import { z } from 'zod';

import { ConfigError } from './errors.ts';
import {
  redisAddressListSchema,
  redisTopologyProblems,
  type RedisSettings,
} from './redis-topology.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every service reads from its environment. */
export const baseConfigSchema = z.object({
  /**
   * One Redis server holding the queues and the migration records, credentials and
   * TLS (rediss://) included. Default redis://127.0.0.1:6379 when no other topology is set.
   */
  REDIS_URL: z.url().optional(),
  /** Redis Cluster: some or all masters, "host:port,host:port"; the rest are discovered. */
  REDIS_CLUSTER_NODES: redisAddressListSchema.optional(),
  /** Redis Sentinel: the sentinels, "host:port,host:port"; needs REDIS_SENTINEL_MASTER. */
  REDIS_SENTINELS: redisAddressListSchema.optional(),
  /** Redis Sentinel: the master group name the sentinels monitor (e.g. "mymaster"). */
  REDIS_SENTINEL_MASTER: z.string().min(1).optional(),
  /** Redis Sentinel: password of the sentinels themselves, when they require one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** ACL user of the Redis servers (not the sentinels); or in REDIS_URL. */
  REDIS_USERNAME: z.string().min(1).optional(),
  /** Password of the Redis servers (not the sentinels); or in REDIS_URL. */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** TLS to the cluster nodes or to the sentinels and master ("true"/"false"). Default off. */
  REDIS_TLS: z.stringbool().optional(),
  /**
   * Prefix of every Redis key the system writes; lets several installations share a
   * Redis. With Redis Cluster it must carry a hash tag, e.g. "{aso}". Default "aso".
   */
  ASO_KEY_PREFIX: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]*(\{[A-Za-z0-9_.-]+\})?[A-Za-z0-9_.-]*$/,
      'use letters, digits, ".", "_", "-" and at most one hash tag such as {aso}',
    )
    .min(1)
    .default('aso'),
  /**
   * Kubeconfig file of the cluster to act on. When unset, the in-cluster service
   * account is used if the process runs in a pod; a local kubeconfig is never
   * picked up silently.
   */
  ASO_KUBECONFIG: z.string().min(1).optional(),
  /** How long a finished migration's record stays readable and listable, in seconds. Default 7 days. */
  ASO_RECORD_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(7 * 24 * 3600),
  /** How long an Idempotency-Key answers with its migration, in seconds. Default 24 hours. */
  ASO_IDEMPOTENCY_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(24 * 3600),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export type BaseConfig = z.output<typeof baseConfigSchema>;

/** Parses the environment with a schema and reports every bad setting at once. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const parsed = schema.safeParse(env);
  const problems = parsed.success
    ? crossFieldProblems(parsed.data)
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (parsed.success && problems.length === 0) return parsed.data;

  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/**
 * Conflicts between settings, checked here rather than in the schema: the services
 * extend the base schema, and zod refuses to pick, omit or override keys of a refined one.
 * createRedis checks the Redis settings again for configurations built without loadConfig.
 */
function crossFieldProblems(config: unknown): string[] {
  return isRedisSettings(config) ? redisTopologyProblems(config) : [];
}

function isRedisSettings(config: unknown): config is RedisSettings {
  return typeof config === 'object' && config !== null && 'ASO_KEY_PREFIX' in config;
}

/** A TCP port number from the environment; 0 asks the system for a free one. */
export const portSchema = z.coerce.number().int().min(0).max(65535);
