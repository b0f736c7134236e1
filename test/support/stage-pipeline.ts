import {
  closeRedis,
  createKubeClients,
  createLogger,
  createRedis,
  loadKubeConfig,
  MigrationStore,
  StageQueues,
  startWorkerService,
  workerConfigSchema,
  type KubeClients,
  type MigrationRecord,
  type RunningWorker,
  type StageContext,
  type StageHandler,
} from '@aso/shared';
import { createCaptureStage } from '@aso/capture-worker';
import { createMetricsStage } from '@aso/metrics-worker';
import { createPodStage, type PodStageSettings } from '@aso/pod-worker';

import { finishedInStore, submitDirectly } from './direct-migrations.ts';
import { testRedis, type TestRedis } from './redis.ts';

/**
 * The three stage workers without the gateway, under a Redis prefix of their own:
 * a migration is stored and queued as the gateway would, minus its pre-flight and
 * request bounds, so a test can use a timeout of a few seconds, and read the store
 * or run a stage's rollback again itself.
 */
export class StagePipeline {
  readonly kube: KubeClients;
  readonly store: MigrationStore;
  readonly podStage: StageHandler;
  private readonly queues: StageQueues;
  private readonly workers: RunningWorker[];
  private readonly redis: TestRedis;
  private readonly connections: ReturnType<typeof createRedis>[];

  private constructor(parts: {
    kube: KubeClients;
    store: MigrationStore;
    podStage: StageHandler;
    queues: StageQueues;
    workers: RunningWorker[];
    redis: TestRedis;
    connections: ReturnType<typeof createRedis>[];
  }) {
    this.kube = parts.kube;
    this.store = parts.store;
    this.podStage = parts.podStage;
    this.queues = parts.queues;
    this.workers = parts.workers;
    this.redis = parts.redis;
    this.connections = parts.connections;
  }

  static async start(kubeconfigPath: string, settings: Partial<PodStageSettings> = {}) {
    const redis = testRedis();
    const logger = createLogger('e2e-pipeline', process.env['TEST_LOG_LEVEL'] ?? 'silent');
    const kube = createKubeClients(loadKubeConfig(kubeconfigPath));
    const config = workerConfigSchema.parse({
      REDIS_URL: redis.url,
      ASO_KEY_PREFIX: redis.prefix,
      ASO_KUBECONFIG: kubeconfigPath,
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: 2,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: 0,
      SHUTDOWN_TIMEOUT_MS: 5_000,
    });
    const podStage = createPodStage(kube, {
      checkpoint: { size: '1Gi', storageClass: undefined },
      stabilisationDelayMs: 500,
      removalSlackMs: 30_000,
      rollbackTimeoutMs: 60_000,
      ...settings,
    });

    const workers: RunningWorker[] = [];
    for (const handler of [createCaptureStage(kube), podStage, createMetricsStage(kube)]) {
      const service = `${handler.stage}-worker`;
      workers.push(await startWorkerService({ service, config, kube, logger, handler }));
    }
    const storeRedis = createRedis(redis.url, 'worker', 'e2e:store');
    const queueRedis = createRedis(redis.url, 'worker', 'e2e:queues');
    return new StagePipeline({
      kube,
      store: new MigrationStore(storeRedis, redis.prefix),
      podStage,
      queues: new StageQueues(queueRedis, redis.prefix),
      workers,
      redis,
      connections: [storeRedis, queueRedis],
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.queues.close();
    await Promise.all(this.connections.map(closeRedis));
    await this.redis.cleanup();
  }

  /** Stores a migration and queues its capture; `timeout` may be below the API's minimum. */
  submit(request: Record<string, unknown> & { timeout: number }): Promise<string> {
    return submitDirectly(this.store, this.queues, request);
  }

  finished(migrationId: string, timeoutMs = 90_000): Promise<MigrationRecord> {
    return finishedInStore(this.store, migrationId, timeoutMs);
  }

  /** A context for running a stage's steps by hand, as a second worker would. */
  async context(migrationId: string): Promise<StageContext> {
    const record = await this.store.require(migrationId);
    return {
      record,
      store: this.store,
      log: createLogger('e2e-pipeline', 'silent'),
      attempt: 1,
      now: () => new Date(),
      remainingMs: () => Math.max(0, Date.parse(record.deadline_at) - Date.now()),
      signal: new AbortController().signal,
    };
  }
}
