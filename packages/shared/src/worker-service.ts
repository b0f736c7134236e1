import { z } from 'zod';

import { baseConfigSchema, loadConfig, portSchema, type BaseConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { createKubeClients, loadKubeConfig, type KubeClients } from './kube.ts';
import { instrumentKubeConfig, kubeRequestMetrics } from './kube-request-metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetricsRegistry, createStageMetrics } from './metrics.ts';
import { STAGES } from './migration.ts';
import { MigrationStore, migrationStoreOptions } from './migration-store.ts';
import { startOrphanSweep } from './orphan-sweep.ts';
import { startOpsServer } from './ops-server.ts';
import type { PolicyEvaluatorParts, RunningPolicyEvaluator } from './policies/policy-service.ts';
import { closeRedis, createRedis } from './redis.ts';
import { checkEvictionPolicy, requireNoEviction } from './redis-policy.ts';
import { StageQueues } from './stage-queues.ts';
import { createStageWorker, type StageHandler } from './stage-worker.ts';

export const workerConfigSchema = baseConfigSchema.extend({
  /** Stage jobs one worker process handles at once. Default 4. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(4),
  /** Address of the worker's /metrics, /health and /ready. Default all interfaces. */
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  /** Port of that server; 0 picks a free one. Default 9464. */
  METRICS_PORT: portSchema.default(9464),
  /** How long a stopping worker waits for its current jobs, in ms. Default 30000. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  /**
   * Lifetime of a job's lock, in ms; a live worker renews it every half of that, so a
   * stage may run far longer. Another worker takes a job up once its lock has lapsed
   * (the worker died). Default 30000.
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
  /** How often each worker looks for jobs whose lock has lapsed, in ms. Default 30000. */
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * How many times a job may lose its worker and be taken up again before it fails
   * (and its migration rolls back). Each deploy or crash during a long stage costs
   * one; a job that kills every worker it lands on still ends. Default 3.
   */
  WORKER_MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(100).default(3),
});

export type WorkerConfig = z.output<typeof workerConfigSchema>;

export interface WorkerServiceOptions {
  service: string;
  config: WorkerConfig;
  kube: KubeClients;
  logger: Logger;
  handler: StageHandler;
  /** Work besides the stage, started once its worker runs: the metrics worker's policy evaluator. */
  companion?: Companion | undefined;
}

export type Companion = (parts: PolicyEvaluatorParts) => Promise<RunningPolicyEvaluator>;

export interface RunningWorker {
  metricsUrl: string;
  /** Stops taking jobs, waits (bounded) for the current ones, closes every connection. */
  close(): Promise<void>;
}

/** The composition root shared by the three stage workers. */
export async function startWorkerService(options: WorkerServiceOptions): Promise<RunningWorker> {
  const { service, config, logger } = options;

  // Before the queues open: an evicting Redis would silently drop jobs and records.
  await requireNoEviction(config, 'worker', service);
  const workerRedis = createRedis(config, 'worker', `${service}:worker`, logger);
  const queueRedis = createRedis(config, 'worker', `${service}:queues`, logger);
  const storeRedis = createRedis(config, 'worker', `${service}:store`, logger);
  const store = new MigrationStore(
    storeRedis,
    config.ASO_KEY_PREFIX,
    migrationStoreOptions(config),
  );
  const queues = new StageQueues(queueRedis, config.ASO_KEY_PREFIX, logger);

  const registry = createMetricsRegistry(service);
  instrumentKubeConfig(options.kube.kubeConfig, kubeRequestMetrics(registry));
  const worker = createStageWorker({
    handler: options.handler,
    connection: workerRedis,
    prefix: config.ASO_KEY_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    locks: {
      lockDurationMs: config.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: config.WORKER_MAX_STALLED_COUNT,
    },
    store,
    queues,
    metrics: createStageMetrics(registry, { stages: [options.handler.stage] }),
    logger,
  });
  const ops = await startOpsServer(
    registry,
    async () => {
      // Checked again at every probe: a policy changed at run time shows here.
      await checkEvictionPolicy(storeRedis);
      return worker.isRunning();
    },
    config.METRICS_HOST,
    config.METRICS_PORT,
  );

  void worker.run();
  await worker.waitUntilReady();
  // The entry stage's workers also find migrations stored without their first job.
  const stopSweep =
    options.handler.stage === STAGES[0]
      ? startOrphanSweep({ store, queues, logger, intervalMs: 30_000, minAgeMs: 60_000 })
      : () => Promise.resolve();
  const companion = await options.companion?.({
    config,
    kube: options.kube,
    logger,
    registry,
    store,
    queues,
  });
  logger.info({ queue: worker.name, metrics: ops.url }, 'worker started');

  return {
    metricsUrl: ops.url,
    async close() {
      await companion?.close();
      if (!(await settlesWithin(worker.close(), config.SHUTDOWN_TIMEOUT_MS))) {
        // Past the bound we stop waiting: the jobs' locks lapse once this process has
        // gone, and another worker resumes them where the record says they stopped.
        logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'leaving unfinished jobs');
      }
      await stopSweep();
      await Promise.all([queues.close(), ops.close()]);
      await Promise.all([workerRedis, queueRedis, storeRedis].map(closeRedis));
      logger.info('worker stopped');
    },
  };
}

/**
 * Entry point of a worker process: configuration from the environment, then the
 * service, then a clean stop on SIGTERM or SIGINT. A job cut short by a forced
 * stop is not lost: its lock expires and another worker takes it up again.
 */
export function runWorkerMain(
  service: string,
  makeHandler: (kube: KubeClients, env: NodeJS.ProcessEnv) => StageHandler,
  prepareCompanion?: (env: NodeJS.ProcessEnv) => Promise<Companion>,
): Promise<void> {
  return startOrExit(service, () => startWorkerMain(service, makeHandler, prepareCompanion));
}

/**
 * Runs a service's start. A refusal (bad configuration, an evicting Redis) is one
 * fatal log line that says why and exit code 1, not an uncaught stack trace.
 */
export async function startOrExit(service: string, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (error) {
    createLogger(service, 'info').fatal(startRefusalFields(error), 'could not start');
    process.exit(1);
  }
}

/**
 * What the refusal line carries: a configuration refusal is its message alone (its
 * stack says nothing an operator can use); anything unexpected keeps its stack.
 */
export function startRefusalFields(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) return { reason: error.message };
  return { err: error };
}

async function startWorkerMain(
  service: string,
  makeHandler: (kube: KubeClients, env: NodeJS.ProcessEnv) => StageHandler,
  prepareCompanion?: (env: NodeJS.ProcessEnv) => Promise<Companion>,
): Promise<void> {
  const config = loadConfig(workerConfigSchema);
  const logger = createLogger(service, config.LOG_LEVEL);
  const kube = createKubeClients(loadKubeConfig(config.ASO_KUBECONFIG));
  // Its settings and files are checked before any connection opens.
  const companion = await prepareCompanion?.(process.env);

  const running = await startWorkerService({
    service,
    config,
    kube,
    logger,
    handler: makeHandler(kube, process.env),
    companion,
  });
  stopOnSignals(logger, () => running.close(), config.SHUTDOWN_TIMEOUT_MS + CLOSE_SLACK_MS);
}

/** Time a stopping worker may take beyond SHUTDOWN_TIMEOUT_MS to close its connections. */
const CLOSE_SLACK_MS = 5_000;

/**
 * Stops the service on SIGTERM or SIGINT. With `hardLimitMs`, the process exits
 * after that long even if stopping hangs (Redis unreachable, a connection that
 * never closes), so a stop is always bounded.
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<void>,
  hardLimitMs?: number,
): void {
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    if (hardLimitMs !== undefined) exitAfter(logger, hardLimitMs);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function exitAfter(logger: Logger, limitMs: number): void {
  const timer = setTimeout(() => {
    logger.error({ limitMs }, 'stop took too long, exiting');
    process.exit(1);
  }, limitMs);
  timer.unref();
}

/** Whether `work` settled within the time; it is not cancelled when it did not. */
async function settlesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, timeoutMs);
  });

  const settled = work.then(
    () => true,
    () => true,
  );
  const outcome = await Promise.race([settled, timedOut]);
  clearTimeout(timer);
  return outcome;
}

export type { BaseConfig };
