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
  MigrationStore,
  planMigration,
  portSchema,
  StageQueues,
  type KubeClients,
  type Logger,
} from '@aso/shared';

import { createApp } from './app.ts';

export const apiConfigSchema = baseConfigSchema.extend({
  /** Address the API listens on. Default loopback only. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Port the API listens on; 0 picks a free one. Default 8080. */
  PORT: portSchema.default(8080),
});

export type ApiConfig = z.output<typeof apiConfigSchema>;

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
  const storeRedis = createRedis(config.REDIS_URL, 'producer', 'api:store', logger);
  const queueRedis = createRedis(config.REDIS_URL, 'producer', 'api:queues', logger);
  const queues = new StageQueues(queueRedis, config.ASO_KEY_PREFIX, logger);
  const version = kube.kubeConfig.makeApiClient(VersionApi);

  const app = createApp({
    store: new MigrationStore(storeRedis, config.ASO_KEY_PREFIX),
    queues,
    planner: (request) => planMigration(kube, request),
    logger,
    registry: createMetricsRegistry('api'),
    checks: {
      redis: async () => {
        await storeRedis.ping();
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
      await closeHttpServer(server);
      await queues.close();
      await Promise.all([storeRedis, queueRedis].map(closeRedis));
      logger.info('api stopped');
    },
  };
}

function listen(
  fetch: (request: Request) => Response | Promise<Response>,
  hostname: string,
  port: number,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => {
      resolve(server);
    });
    server.once('error', reject);
  });
}
