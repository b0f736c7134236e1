import { randomBytes } from 'node:crypto';

import {
  buildMigrationPlan,
  captureContainerStates,
  createLogger,
  createMetricsRegistry,
  createRedis,
  MigrationStore,
  PodNotFoundError,
  PolicyStore,
  StageQueues,
  type Logger,
  type MigrationRequestInput,
  type PlannedMigration,
} from '@aso/shared';
import { createApp, type ApiDeps } from '@aso/api';

import { loadApiTokens } from '../../services/api/src/api-tokens.ts';
import { BatchStore } from '../../services/api/src/batches/batch-store.ts';
import { RateLimiter } from '../../services/api/src/rate-limit.ts';
import { node, pod } from '../../packages/shared/src/preflight/test-fixtures.ts';
import { checkingAnswers } from './api-contract.ts';
import { fixtureCluster, type FixtureCluster } from './fixture-cluster.ts';
import { testRedis, type TestRedis } from './redis.ts';

/** A fresh token of the kind `npm start` generates. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface InProcessApiOptions {
  /** ASO_API_TOKENS as the service reads it. */
  tokens: string;
  /** Requests per token a minute; no limiter when unset. */
  rateLimitPerMinute?: number;
  allowedNamespaces?: string[];
  /** ASO_MAX_IN_FLIGHT_PER_NODE as the gateway reads it; 2, its default, when unset. */
  maxInFlightPerNode?: number;
  planner?: ApiDeps['planner'];
  logger?: Logger;
  /** Redis of the rate limiter, when a test needs it elsewhere (unreachable). */
  rateLimitRedisUrl?: string;
  /** Another instance's Redis prefix, to act as a second replica of it. */
  replicaOf?: InProcessApi;
  /** The cluster batches and drains see; three empty nodes when unset. */
  cluster?: FixtureCluster;
}

export interface InProcessApi {
  app: ReturnType<typeof createApp>;
  redis: TestRedis;
  store: MigrationStore;
  queues: StageQueues;
  policies: PolicyStore;
  cluster: FixtureCluster;
  /** Migration records plus capture jobs: what a refused request must leave unchanged. */
  footprint(): Promise<{ records: number; jobs: number }>;
  close(): Promise<void>;
}

/**
 * The gateway built in-process as server.ts builds it, over the real Redis under a
 * prefix of its own, so the access rules are tested without a cluster.
 */
export function inProcessApi(options: InProcessApiOptions): InProcessApi {
  const redis = options.replicaOf?.redis ?? testRedis();
  const storeRedis = createRedis(redis.url, 'producer', 'test:store');
  const limiterRedis = createRedis(options.rateLimitRedisUrl ?? redis.url, 'producer', 'test:rl');
  const queues = new StageQueues(createRedis(redis.url, 'producer', 'test:queues'), redis.prefix);
  const store = new MigrationStore(storeRedis, redis.prefix);
  const policyRedis = createRedis(redis.url, 'producer', 'test:policies');
  const policies = new PolicyStore(policyRedis, redis.prefix);
  const logger = options.logger ?? createLogger('api-test', 'silent');
  const cluster = options.cluster ?? fixtureCluster();

  // Every answer of a described route is checked against the OpenAPI description.
  const app = checkingAnswers(
    createApp({
      store,
      queues,
      planner: options.planner ?? plannerOverFixtures,
      cluster,
      batches: new BatchStore(limiterRedis, redis.prefix, { retentionSeconds: 3600 }),
      policies,
      logger,
      registry: createMetricsRegistry('api-test'),
      checks: {},
      tokens: loadApiTokens({ ASO_API_TOKENS: options.tokens }),
      rateLimiter:
        options.rateLimitPerMinute === undefined
          ? undefined
          : new RateLimiter({
              redis: limiterRedis,
              keyPrefix: redis.prefix,
              perMinute: options.rateLimitPerMinute,
              logger,
            }),
      allowedNamespaces: options.allowedNamespaces && new Set(options.allowedNamespaces),
      maxInFlightPerNode: options.maxInFlightPerNode ?? 2,
    }),
  );

  return {
    app,
    redis,
    store,
    queues,
    policies,
    cluster,
    async footprint() {
      const counts = await queues.queue('capture').getJobCounts();
      const jobs = Object.values(counts).reduce((sum, count) => sum + count, 0);
      return { records: (await store.list(500)).length, jobs };
    },
    async close() {
      await queues.close();
      storeRedis.disconnect();
      limiterRedis.disconnect();
      policyRedis.disconnect();
      if (!options.replicaOf) await redis.cleanup();
    },
  };
}

export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** A request to the in-process gateway as the holder of `token`; a string body goes as it is. */
export async function sendJson(
  api: InProcessApi,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonAnswer> {
  const response = await api.app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

/** Where a fixture pod runs when the request names no source node. */
export const FIXTURE_POD_NODE = 'worker-1';

/** The real plan builder over a fixture pod of the requested name; "ghost" does not exist. */
export const plannerOverFixtures = plannerOverPods((name) => name !== 'ghost');

/** The real plan builder over fixture pods: those `exists` accepts, on the source node. */
export function plannerOverPods(
  exists: (podName: string) => boolean,
): (request: MigrationRequestInput) => Promise<PlannedMigration> {
  return (request) => planFixture(exists, request);
}

function planFixture(
  exists: (podName: string) => boolean,
  request: MigrationRequestInput,
): Promise<PlannedMigration> {
  if (!exists(request.pod_name)) {
    return Promise.reject(new PodNotFoundError(request.pod_namespace, request.pod_name));
  }
  // Without source_node the fixture pod runs on worker-1, as the sample pod does.
  const sourceNode = request.source_node ?? FIXTURE_POD_NODE;
  const found = pod(request.pod_name, { nodeName: sourceNode });
  const containerStates = captureContainerStates(found);
  const plan = buildMigrationPlan({
    pod: found,
    sourceNode,
    targetNode: node(request.target_node),
    podsOnTarget: [],
    claims: [],
    persistentVolumes: [],
    containerStates,
  });
  return Promise.resolve({ pod: found, plan, containerStates });
}
