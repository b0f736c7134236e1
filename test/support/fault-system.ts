import {
  closeRedis,
  createRedis,
  MigrationStore,
  StageQueues,
  type MigrationRecord,
} from '@aso/shared';

import { finishedInStore, submitDirectly } from './direct-migrations.ts';
import { ServiceProcess, type LogLine, type ServiceName } from './service-processes.ts';

export type WorkerName = Exclude<ServiceName, 'api'>;

export interface FaultSystemOptions {
  redisUrl: string;
  /** Redis key prefix of the test file. */
  prefix: string;
  kubeconfigPath: string;
  /** Replicas of each worker at the start. */
  replicas: Record<WorkerName, number>;
  /** Settings for every service on top of the fast lock settings below. */
  env?: Record<string, string>;
}

/**
 * Lock settings short enough that a dead worker's job is taken up within seconds
 * (lock lapses after 3 s, looked for every second), and one lost worker per job
 * tolerated: a job that loses two fails, as BullMQ's stalled-job limit says.
 */
export const FAST_LOCKS = {
  WORKER_LOCK_DURATION_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  WORKER_MAX_STALLED_COUNT: '1',
};

/**
 * The three stage workers as child processes, several replicas each, against a
 * Redis prefix of their own. Migrations are written and queued through the store
 * and the queues directly, as the gateway does after its pre-flight, so the tests
 * depend on the workers only and may use timeouts below the API's minimum.
 */
export class FaultSystem {
  readonly store: MigrationStore;
  private readonly queues: StageQueues;
  private readonly options: FaultSystemOptions;
  private readonly connections: ReturnType<typeof createRedis>[];
  private readonly services: ServiceProcess[] = [];
  private started = 0;

  private constructor(options: FaultSystemOptions) {
    this.options = options;
    const storeRedis = createRedis(options.redisUrl, 'worker', 'faults:store');
    const queueRedis = createRedis(options.redisUrl, 'worker', 'faults:queues');
    this.connections = [storeRedis, queueRedis];
    this.store = new MigrationStore(storeRedis, options.prefix);
    this.queues = new StageQueues(queueRedis, options.prefix);
  }

  static async start(options: FaultSystemOptions): Promise<FaultSystem> {
    const system = new FaultSystem(options);
    const starting: Promise<ServiceProcess>[] = [];
    for (const [service, count] of Object.entries(options.replicas)) {
      for (let i = 0; i < count; i++) starting.push(system.add(service as WorkerName));
    }
    await Promise.all(starting);
    return system;
  }

  /** One more replica of a service, once it is ready. */
  async add(service: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    this.started += 1;
    const started = await ServiceProcess.start(service, `${service}#${this.started}`, {
      REDIS_URL: this.options.redisUrl,
      ASO_KEY_PREFIX: this.options.prefix,
      ASO_KUBECONFIG: this.options.kubeconfigPath,
      ASO_STABILISATION_DELAY_MS: '500',
      SHUTDOWN_TIMEOUT_MS: '5000',
      WORKER_CONCURRENCY: '2',
      // No test here is about the caps on migrations in flight.
      ASO_MAX_IN_FLIGHT: '50',
      ASO_MAX_IN_FLIGHT_PER_NODE: '50',
      ...FAST_LOCKS,
      ...this.options.env,
      ...env,
    });
    this.services.push(started);
    return started;
  }

  /** Live replicas of a service. */
  replicas(service: ServiceName): ServiceProcess[] {
    return this.services.filter((s) => s.label.startsWith(`${service}#`) && !s.hasExited());
  }

  /** The replica of `service` that logs a matching line first, with the line. */
  firstToLog(
    service: ServiceName,
    match: (line: LogLine) => boolean,
    timeoutMs = 60_000,
  ): Promise<{ replica: ServiceProcess; line: LogLine }> {
    const replicas = this.replicas(service);
    return Promise.any(
      replicas.map(async (replica) => ({
        replica,
        line: await replica.waitForLog(match, timeoutMs),
      })),
    );
  }

  /** Stores a migration and queues its capture; `timeout` may be below the API's minimum. */
  submit(request: Record<string, unknown> & { timeout: number }): Promise<string> {
    return submitDirectly(this.store, this.queues, request);
  }

  finished(migrationId: string, timeoutMs = 120_000): Promise<MigrationRecord> {
    return finishedInStore(this.store, migrationId, timeoutMs);
  }

  /** The BullMQ job of a stage of a migration (job id = migration id). */
  job(stage: 'capture' | 'pod' | 'metrics', migrationId: string) {
    return this.queues.queue(stage).getJob(migrationId);
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((service) => service.stop()));
    await this.queues.close();
    await Promise.all(this.connections.map(closeRedis));
  }
}
