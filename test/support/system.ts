import { randomBytes } from 'node:crypto';

import {
  createKubeClients,
  createLogger,
  loadKubeConfig,
  policyConfigSchema,
  startPolicyEvaluator,
  startWorkerService,
  workerConfigSchema,
  type RunningWorker,
  type Stage,
} from '@aso/shared';
import { apiConfigSchema, startApi, type RunningApi } from '@aso/api';
import { createCaptureStage } from '@aso/capture-worker';
import { createMetricsStage } from '@aso/metrics-worker';
import { createPodStage } from '@aso/pod-worker';

import { TEST_REDIS_URL } from './redis.ts';

export interface SystemOptions {
  kubeconfigPath: string;
  /** Redis key prefix of this test file: its queues and records are its own. */
  prefix: string;
  stabilisationDelayMs?: number;
  /** StorageClass of new checkpoint claims; the cluster's default when unset. */
  checkpointStorageClass?: string;
  /** A kubeconfig per service, to run each under its own identity; `kubeconfigPath` if unset. */
  serviceKubeconfigs?: Partial<Record<SystemService, string>>;
  /** ASO_ALLOWED_NAMESPACES of the API: a drain then leaves other tests' pods alone. */
  allowedNamespaces?: string[];
  /** How often the metrics worker evaluates the load policies; 30 s as in production if unset. */
  policyIntervalSeconds?: number;
}

export type SystemService = 'api' | 'capture' | 'pod' | 'metrics';

export interface RunningSystem {
  apiUrl: string;
  /** A read-write bearer token the API accepts. */
  apiToken: string;
  /** A read-only bearer token the API accepts (enough for its /metrics). */
  apiReadOnlyToken: string;
  /** Each worker's /metrics, by stage. */
  workerMetricsUrls: Record<Stage, string>;
  stop(): Promise<void>;
}

/**
 * The API and one of each stage worker, in this process, wired exactly as their
 * main modules wire them, against the real Redis and the local control plane.
 */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const logger = createLogger('e2e', process.env['TEST_LOG_LEVEL'] ?? 'silent');
  const kubeOf = (service: SystemService) =>
    createKubeClients(
      loadKubeConfig(options.serviceKubeconfigs?.[service] ?? options.kubeconfigPath),
    );
  const base = {
    REDIS_URL: TEST_REDIS_URL,
    ASO_KEY_PREFIX: options.prefix,
    ASO_KUBECONFIG: options.kubeconfigPath,
    LOG_LEVEL: 'silent' as const,
  };
  const workerConfig = workerConfigSchema.parse({
    ...base,
    WORKER_CONCURRENCY: 2,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: 0,
    SHUTDOWN_TIMEOUT_MS: 5_000,
  });

  const policyConfig = policyConfigSchema.parse({
    ASO_POLICY_INTERVAL_SECONDS: options.policyIntervalSeconds,
  });

  const apiToken = randomBytes(32).toString('base64url');
  const apiReadOnlyToken = randomBytes(32).toString('base64url');
  const api: RunningApi = await startApi(
    apiConfigSchema.parse({
      ...base,
      PORT: '0',
      ASO_API_TOKENS: `read-write:${apiToken},read-only:${apiReadOnlyToken}`,
      // Tests poll migrations several times a second; the limit has tests of its own.
      ASO_RATE_LIMIT_PER_MINUTE: '0',
      ASO_ALLOWED_NAMESPACES: options.allowedNamespaces?.join(','),
    }),
    kubeOf('api'),
    logger,
  );
  // One set of clients per worker, shared by its handler and its service as in its main
  // module, so that the service's Kubernetes request metrics see the handler's calls.
  const kubes = { capture: kubeOf('capture'), pod: kubeOf('pod'), metrics: kubeOf('metrics') };
  const handlers = [
    createCaptureStage(kubes.capture),
    createPodStage(kubes.pod, {
      checkpoint: { size: '1Gi', storageClass: options.checkpointStorageClass },
      stabilisationDelayMs: options.stabilisationDelayMs ?? 3_000,
      removalSlackMs: 30_000,
    }),
    createMetricsStage(kubes.metrics),
  ];
  const workers = new Map<Stage, RunningWorker>();
  for (const handler of handlers) {
    const worker = await startWorkerService({
      service: `${handler.stage}-worker`,
      config: workerConfig,
      kube: kubes[handler.stage],
      logger: logger.child({ stage: handler.stage }),
      handler,
      // As its main module does, the metrics worker also evaluates the load policies.
      companion:
        handler.stage === 'metrics'
          ? (parts) => startPolicyEvaluator(parts, policyConfig, null)
          : undefined,
    });
    workers.set(handler.stage, worker);
  }
  const metricsUrl = (stage: Stage) => workers.get(stage)?.metricsUrl ?? '';

  return {
    apiUrl: api.url,
    apiToken,
    apiReadOnlyToken,
    workerMetricsUrls: {
      capture: metricsUrl('capture'),
      pod: metricsUrl('pod'),
      metrics: metricsUrl('metrics'),
    },
    async stop() {
      await Promise.all([...workers.values()].map((worker) => worker.close()));
      await api.close();
    },
  };
}
