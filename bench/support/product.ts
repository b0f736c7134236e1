import { randomBytes } from 'node:crypto';

import { isFinished, MigrationStore, type MigrationRecord } from '@aso/shared';
import { Redis } from 'ioredis';

import { ServiceProcess, type ServiceName } from '../../test/support/service-processes.ts';

export type WorkerName = Exclude<ServiceName, 'api'>;

const WORKERS: readonly WorkerName[] = ['capture-worker', 'pod-worker', 'metrics-worker'];
/** How often the bench reads a record while it waits for its end (Redis, not the gateway). */
const FINISH_POLL_MS = 50;

export interface ProductOptions {
  kubeconfigPath: string;
  redisUrl: string;
  /** Replicas of each stage worker. Default 1. */
  replicas?: number;
  /** Settings on top of the bench's defaults below. */
  env?: Record<string, string>;
}

/** What a migration request of the bench carries. */
export interface BenchRequest {
  pod_name: string;
  pod_namespace: string;
  source_node: string;
  target_node: string;
  preserve_pv?: boolean;
}

/** The move items 1 and 2 time and count: the sample pod, worker-1 to worker-2, with a claim. */
export function sampleMove(namespace: string, pod: string): BenchRequest {
  return {
    pod_name: pod,
    pod_namespace: namespace,
    source_node: 'worker-1',
    target_node: 'worker-2',
    preserve_pv: true,
  };
}

/**
 * The gateway and the three stage workers as child processes, started from their
 * main modules exactly as deployed, on a Redis key prefix of their own. Migrations
 * go in through the gateway's HTTP API; their end is read from the record in Redis,
 * so that waiting does not load the gateway being measured.
 */
export class Product {
  readonly apiUrl: string;
  readonly services: readonly ServiceProcess[];
  readonly prefix: string;
  private readonly token: string;
  private readonly store: MigrationStore;
  private readonly redis: Redis;

  private constructor(
    redisUrl: string,
    apiUrl: string,
    token: string,
    prefix: string,
    services: ServiceProcess[],
  ) {
    this.apiUrl = apiUrl;
    this.token = token;
    this.prefix = prefix;
    this.services = services;
    this.redis = new Redis(redisUrl, { connectionName: 'bench:store' });
    this.store = new MigrationStore(this.redis, prefix);
  }

  static async start(options: ProductOptions): Promise<Product> {
    const prefix = `bench-b-${randomBytes(4).toString('hex')}`;
    const token = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      REDIS_URL: options.redisUrl,
      ASO_KEY_PREFIX: prefix,
      ASO_KUBECONFIG: options.kubeconfigPath,
      // The bare baselines measure nothing after the switch: no stabilisation wait either.
      ASO_STABILISATION_DELAY_MS: '0',
      ASO_MAX_IN_FLIGHT: '64',
      ASO_MAX_IN_FLIGHT_PER_NODE: '64',
      WORKER_CONCURRENCY: '16',
      SHUTDOWN_TIMEOUT_MS: '2000',
      ...options.env,
    };
    const replicas = options.replicas ?? 1;
    const started: Promise<ServiceProcess>[] = [
      ServiceProcess.start('api', 'api', {
        ...env,
        HOST: '127.0.0.1',
        PORT: '0',
        ASO_API_TOKENS: `read-write:${token}`,
        ASO_RATE_LIMIT_PER_MINUTE: '0',
      }),
    ];
    for (const worker of WORKERS) {
      for (let i = 1; i <= replicas; i++) {
        started.push(ServiceProcess.start(worker, `${worker}#${i}`, env));
      }
    }
    const services = await Promise.all(started);
    // Should the bench die without stopping them, they must not outlive it.
    process.once('exit', () => {
      for (const service of services) service.signal('SIGKILL');
    });
    const api = services[0];
    const listening = await api?.waitForLog((line) => line.msg === 'api listening', 1_000);
    return new Product(options.redisUrl, String(listening?.['url']), token, prefix, services);
  }

  /** Pids of the gateway and every worker replica. */
  pids(): number[] {
    return this.services.map((service) => service.pid);
  }

  /** Each service's /metrics address (the gateway's needs the token: see `metricsText`). */
  metricsUrls(): { label: string; url: string }[] {
    return this.services.map((service) => {
      if (service.label === 'api') return { label: 'api', url: `${this.apiUrl}/metrics` };
      const line = service.logged((l) => l.msg === 'worker started')[0];
      return { label: service.label, url: `${String(line?.['metrics'])}/metrics` };
    });
  }

  /** The Prometheus text of every service, by label. */
  async metricsText(): Promise<Map<string, string>> {
    const texts = await Promise.all(
      this.metricsUrls().map(async ({ label, url }) => {
        const answer = await fetch(url, { headers: { authorization: `Bearer ${this.token}` } });
        return [label, await answer.text()] as const;
      }),
    );
    return new Map(texts);
  }

  /** POSTs a migration; resolves with its id once the gateway accepted it (202). */
  async submit(request: BenchRequest): Promise<string> {
    const answer = await fetch(`${this.apiUrl}/api/v1/migrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const body = (await answer.json()) as { migration_id?: string; detail?: string };
    if (answer.status !== 202 || !body.migration_id) {
      throw new Error(`migration of ${request.pod_name} refused: ${answer.status} ${body.detail}`);
    }
    return body.migration_id;
  }

  /** The record once the migration has ended; throws unless it completed. */
  async completed(migrationId: string, timeoutMs = 120_000): Promise<MigrationRecord> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const record = await this.store.get(migrationId);
      if (record && isFinished(record)) {
        if (record.status === 'completed') return record;
        throw new Error(`migration ${migrationId} ended ${record.status}: ${record.message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, FINISH_POLL_MS));
    }
    throw new Error(
      `migration ${migrationId} did not end within ${timeoutMs} ms; ${await this.whereItStands(migrationId)}`,
    );
  }

  /** For a migration that did not end: its record's state and what the services logged of it. */
  private async whereItStands(migrationId: string): Promise<string> {
    const record = await this.store.get(migrationId);
    const state = record
      ? `status ${record.status}, stage ${record.stage ?? 'none'}: ${record.message}`
      : 'no record';
    const lines = this.services.flatMap((service) =>
      service
        .logged((line) => line['migrationId'] === migrationId)
        .slice(-3)
        .map((line) => `${service.label}: ${line['msg']}`),
    );
    const running = this.services.filter((service) => !service.hasExited()).map((s) => s.label);
    return `${state}; last lines: ${lines.join(' | ') || 'none'}; services running: ${running.join(', ')}`;
  }

  /** Stops every service and removes the keys of this product's prefix (and only those). */
  async stop(): Promise<void> {
    await Promise.all(this.services.map((service) => service.stop()));
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.quit();
  }
}
