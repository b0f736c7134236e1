/**
 * The gateway built in-process as services/api/src/server.ts builds it (store, queues,
 * rate limiter, real logger writing to /dev/null), listening on a loopback port, plus
 * a no-op route behind the same middleware (request id, request log, bearer token,
 * rate limit) as the baseline of what the HTTP layer alone costs. The planner is the
 * real plan builder over a fixture pod: item 3 measures the enqueue, not the cluster.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { serve, type ServerType } from '@hono/node-server';
import { pino } from 'pino';

import {
  closeHttpServer,
  closeRedis,
  createLogger,
  createMetricsRegistry,
  createRedis,
  MigrationStore,
  StageQueues,
} from '@aso/shared';
import { createApp } from '@aso/api';

import { loadApiTokens } from '../../services/api/src/api-tokens.ts';
import { RateLimiter } from '../../services/api/src/rate-limit.ts';
import { plannerOverFixtures } from '../../test/support/in-process-api.ts';

/** The no-op route's path: outside /api/v1, so it cannot collide with a real route. */
export const NOOP_PATH = '/bench/no-op';

/** High enough never to refuse: the limiter's Redis round trip is still paid. */
const UNREACHED_RATE_LIMIT_PER_MINUTE = 1_000_000_000;

export interface BenchApi {
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startBenchApi(redisUrl: string, prefix: string): Promise<BenchApi> {
  const token = randomBytes(24).toString('base64url');
  const storeRedis = createRedis(redisUrl, 'producer', 'bench:api-store');
  const queueRedis = createRedis(redisUrl, 'producer', 'bench:api-queues');
  // Asynchronous, as pino writes to stdout in the deployed gateway: lines written while
  // a write is pending leave together.
  const logger = createLogger('api', 'info', pino.destination({ dest: '/dev/null', sync: false }));
  const queues = new StageQueues(queueRedis, prefix, logger);

  const app = createApp({
    store: new MigrationStore(storeRedis, prefix),
    queues,
    planner: plannerOverFixtures,
    logger,
    registry: createMetricsRegistry('api'),
    checks: {},
    tokens: loadApiTokens({ ASO_API_TOKENS: `read-write:${token}` }),
    rateLimiter: new RateLimiter({
      redis: storeRedis,
      keyPrefix: prefix,
      perMinute: UNREACHED_RATE_LIMIT_PER_MINUTE,
      logger,
    }),
  });
  // Registered after the app's middleware, so every one of them runs before it too.
  app.post(NOOP_PATH, function noOp(c) {
    return c.body(null, 204);
  });

  const server = await listen(app.fetch);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async close() {
      await closeHttpServer(server);
      await queues.close();
      await Promise.all([storeRedis, queueRedis].map(closeRedis));
    },
  };
}

function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => {
      resolve(server);
    });
    server.once('error', reject);
  });
}
