import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { VersionApi } from '@kubernetes/client-node';
import { z } from 'zod';

import {
  baseConfigSchema,
  closeHttpServer,
  closeRedis,
  createMetricsRegistry,
  createRedis,
  instrumentKubeConfig,
  kubeRequestMetrics,
  MigrationStore,
  migrationStoreOptions,
  planMigration,
  PolicyStore,
  portSchema,
  registerQueueDepth,
  checkEvictionPolicy,
  QueueUnavailableError,
  requireNoEviction,
  StageQueues,
  type KubeClients,
  type Logger,
} from '@aso/shared';

import { loadApiTokens, type ApiTokens } from './api-tokens.ts';
import { createApp } from './app.ts';
import { BatchStore } from './batches/batch-store.ts';
import { kubeClusterView } from './batches/cluster-view.ts';
import { RateLimiter } from './rate-limit.ts';

/** A DNS-1123 label, the form of a namespace name. */
const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const apiConfigSchema = baseConfigSchema.extend({
  /** Address the API listens on. Default loopback only. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Port the API listens on; 0 picks a free one. Default 8080. */
  PORT: portSchema.default(8080),
  /** Comma-separated bearer tokens, each "read-write:<token>" or "read-only:<token>". */
  ASO_API_TOKENS: z.string().optional(),
  /** A file of the same entries, one a line (a mounted Kubernetes Secret); # starts a comment. */
  ASO_API_TOKENS_FILE: z.string().min(1).optional(),
  /** Comma-separated namespaces migrations may be requested in. Default: every namespace. */
  ASO_ALLOWED_NAMESPACES: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : namespaceList(value)))
    .pipe(
      z
        .array(z.string().regex(NAMESPACE_PATTERN, 'each entry must be a namespace name'))
        .min(1, 'name at least one namespace, or unset it to allow every namespace')
        .optional(),
    ),
  /**
   * Requests each token may make a minute, counted in Redis so that the limit holds
   * across replicas; 0 turns the limit off. Default 120.
   */
  ASO_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  /**
   * The capture workers' cap on migrations in flight off one source node, read here
   * to tell a drain (whose members all leave one node) what it can run at once; set
   * it to the workers' value. Default 2, as theirs.
   */
  ASO_MAX_IN_FLIGHT_PER_NODE: z.coerce.number().int().min(1).default(2),
});

export type ApiConfig = z.output<typeof apiConfigSchema>;

function namespaceList(value: string): string[] {
  return value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** The gateway's composition root: Redis, queues, the app and its HTTP server. */
export async function startApi(
  config: ApiConfig,
  kube: KubeClients,
  logger: Logger,
): Promise<RunningApi> {
  // Before any connection: a gateway without tokens must not start at all.
  const tokens = loadApiTokens(config);
  logAccessSettings(config, tokens, logger);

  // Before the queues open: an evicting Redis would silently drop jobs and records.
  // A Redis that is down is not refused: the API starts, answers 503 meanwhile, and
  // its readiness checks the policy once Redis answers.
  await requireNoEviction(config, 'producer', 'api').catch((error: unknown) => {
    if (!(error instanceof QueueUnavailableError)) throw error;
    logger.warn({ err: error }, 'redis unreachable at start; its policy is checked by /ready');
  });
  const storeRedis = createRedis(config, 'producer', 'api:store', logger);
  const queueRedis = createRedis(config, 'producer', 'api:queues', logger);
  // The policies' commands need no WATCH: they may share the queues' connection.
  const policies = new PolicyStore(queueRedis, config.ASO_KEY_PREFIX);
  const queues = new StageQueues(queueRedis, config.ASO_KEY_PREFIX, logger);
  const version = kube.kubeConfig.makeApiClient(VersionApi);
  // The gateway reports every stage queue's depth: it runs whichever worker is down.
  const registry = createMetricsRegistry('api');
  instrumentKubeConfig(kube.kubeConfig, kubeRequestMetrics(registry));
  registerQueueDepth(registry, queues, logger);

  // Event streams last as long as their migration; a stop must not wait for them.
  const stopping = new AbortController();
  const app = createApp({
    store: new MigrationStore(storeRedis, config.ASO_KEY_PREFIX, migrationStoreOptions(config)),
    queues,
    planner: (request) => planMigration(kube, request),
    cluster: kubeClusterView(kube),
    // Batch writes need no WATCH: they may share the queues' connection.
    batches: new BatchStore(queueRedis, config.ASO_KEY_PREFIX, {
      retentionSeconds: config.ASO_RECORD_RETENTION_SECONDS,
    }),
    policies,
    logger,
    registry,
    tokens,
    rateLimiter:
      config.ASO_RATE_LIMIT_PER_MINUTE > 0
        ? new RateLimiter({
            redis: storeRedis,
            keyPrefix: config.ASO_KEY_PREFIX,
            perMinute: config.ASO_RATE_LIMIT_PER_MINUTE,
            logger,
          })
        : undefined,
    allowedNamespaces: config.ASO_ALLOWED_NAMESPACES && new Set(config.ASO_ALLOWED_NAMESPACES),
    maxInFlightPerNode: config.ASO_MAX_IN_FLIGHT_PER_NODE,
    stopping: stopping.signal,
    checks: {
      redis: async () => {
        // Every master answers and none may evict keys: checked at every probe.
        await checkEvictionPolicy(storeRedis);
      },
      kubernetes: async () => {
        await version.getCode();
      },
    },
  });

  const server = await listen(app.fetch, config.HOST, config.PORT);
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  logger.info({ url }, 'api listening');

  return {
    url,
    async close() {
      stopping.abort();
      await closeHttpServer(server);
      await queues.close();
      await Promise.all([storeRedis, queueRedis].map(closeRedis));
      logger.info('api stopped');
    },
  };
}

function logAccessSettings(config: ApiConfig, tokens: ApiTokens, logger: Logger): void {
  logger.info(
    { readWriteTokens: tokens.count('read-write'), readOnlyTokens: tokens.count('read-only') },
    'api tokens loaded',
  );
  if (config.ASO_ALLOWED_NAMESPACES === undefined) {
    logger.warn('ASO_ALLOWED_NAMESPACES is unset: migrations are allowed in every namespace');
  } else {
    logger.info({ allowedNamespaces: config.ASO_ALLOWED_NAMESPACES }, 'namespace allow-list');
  }
  logger.info(
    { perMinute: config.ASO_RATE_LIMIT_PER_MINUTE || 'unlimited' },
    'rate limit per token',
  );
}

/**
 * How long a client may take to send a whole request, headers and body (Node answers
 * 408 then). Requests are a few KiB: Node's default of 5 minutes only holds sockets
 * for clients that declared more than they send. Streams answered over time (event
 * streams) are not bound by it: it covers receiving the request only.
 */
const REQUEST_TIMEOUT_MS = 30_000;

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch, hostname, port, serverOptions: { requestTimeout: REQUEST_TIMEOUT_MS } },
      () => {
        resolve(server);
      },
    );
    server.once('error', reject);
  });
}
