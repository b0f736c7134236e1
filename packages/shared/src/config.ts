import { z } from 'zod';

import { ConfigError } from './errors.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every service reads from its environment. */
export const baseConfigSchema = z.object({
  /** Redis holding the queues and the migration records. Default: local Redis. */
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key the system writes; lets several installations share a Redis. */
  ASO_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, ".", "_" and "-"')
    .default('aso'),
  /**
   * Kubeconfig file of the cluster to act on. When unset, the in-cluster service
   * account is used if the process runs in a pod; a local kubeconfig is never
   * picked up silently.
   */
  ASO_KUBECONFIG: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
});

export type BaseConfig = z.output<typeof baseConfigSchema>;

/** Parses the environment with a schema and reports every bad setting at once. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;

  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** A TCP port number from the environment; 0 asks the system for a free one. */
export const portSchema = z.coerce.number().int().min(0).max(65535);
