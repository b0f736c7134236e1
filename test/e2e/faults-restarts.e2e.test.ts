import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { startLocalCluster, type LocalCluster } from '@aso/local-cluster';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';
import { FaultSystem } from '../support/fault-system.ts';
import { expectSettled, FaultTally } from '../support/fault-tally.ts';
import { readyWorkload } from '../support/fault-workload.ts';
import { testRedis } from '../support/redis.ts';
import { RestartableRedis } from '../support/restartable-redis.ts';
import { stageLine } from '../support/service-processes.ts';

/**
 * The services' dependencies restart under them: Redis (killed and started again
 * from its append-only file) and kube-apiserver (stopped and started again on the
 * same port). The services reconnect, the watch on the new pod resumes, and every
 * migration in flight completes, once.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tally = new FaultTally('faults-restarts');

afterAll(() => {
  tally.print();
});

function migration(pod: V1Pod) {
  return {
    pod_name: pod.metadata?.name,
    pod_namespace: pod.metadata?.namespace,
    source_node: 'worker-1',
    target_node: 'worker-2',
    timeout: 120,
  };
}

describe('a Redis restart while migrations run', () => {
  let kubeConfig: KubeConfig;
  let core: CoreV1Api;
  let namespace: TestNamespace;
  let redis: RestartableRedis;
  let system: FaultSystem;

  beforeAll(async () => {
    kubeConfig = loadTestKubeConfig();
    core = kubeConfig.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(kubeConfig, 'faults-redis');
    redis = await RestartableRedis.start();
    system = await FaultSystem.start({
      redisUrl: redis.url,
      prefix: `faults-${randomUUID().slice(0, 8)}`,
      kubeconfigPath: inject('kubeconfigPath'),
      replicas: { 'capture-worker': 1, 'pod-worker': 2, 'metrics-worker': 1 },
      // Locks outlive the outage, as the 30 s default does in production.
      env: { WORKER_LOCK_DURATION_MS: '15000', WORKER_STALLED_INTERVAL_MS: '2000' },
    });
  });

  afterAll(async () => {
    await system.stop();
    await redis.stop();
    await namespace.delete();
  });

  it('loses and repeats nothing: the services reconnect and each migration completes', async () => {
    const token = randomBytes(24).toString('hex');
    const api = await system.add('api', {
      HOST: '127.0.0.1',
      PORT: '0',
      ASO_API_TOKENS: `read-write:${token}`,
    });
    const apiUrl = String((await api.waitForLog((l) => l.msg === 'api listening', 1_000))['url']);
    const pods = await Promise.all(
      [1, 2, 3].map((i) =>
        readyWorkload(kubeConfig, namespace.name, `redis-${i}`, { readyAfter: 6 }),
      ),
    );
    const ids = await Promise.all(pods.map((pod) => system.submit(migration(pod))));
    await Promise.all(
      ids.map((id) => system.firstToLog('pod-worker', stageLine(id, 'new pod created'))),
    );

    await redis.kill();
    tally.fault();
    const ready = await fetch(`${apiUrl}/ready`);
    expect(ready.status).toBe(503);
    await redis.launch();
    const records = await Promise.all(ids.map((id) => system.finished(id)));

    for (const record of records) {
      expect(record.error).toBeNull();
      expect(record.status).toBe('completed');
    }
    for (const [i, pod] of pods.entries()) {
      await expectSettled(tally, core, system.store, pod, ids[i] ?? '');
    }
    expect((await system.store.list(100)).map((r) => r.migration_id).sort()).toEqual(
      [...ids].sort(),
    );
    await eventually(async () => (await fetch(`${apiUrl}/ready`)).ok, {
      what: 'the API ready again',
      timeoutMs: 20_000,
    });
    const read = await fetch(`${apiUrl}/api/v1/migrations/${ids[0] ?? ''}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(read.status).toBe(200);
  });
});

describe('a kube-apiserver restart while the new pod waits to be Ready', () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let namespace: TestNamespace;
  let system: FaultSystem;
  let cleanupRedis: () => Promise<void>;

  beforeAll(async () => {
    cluster = await startLocalCluster({
      binDir: process.env['ASO_BIN_DIR'] ?? join(ROOT, '.local', 'bin'),
      logger: pino({ name: 'faults-cluster', level: 'silent' }),
    });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    namespace = await createTestNamespace(cluster.kubeConfig, 'faults-apiserver');
    const redis = testRedis();
    cleanupRedis = () => redis.cleanup();
    system = await FaultSystem.start({
      redisUrl: redis.url,
      prefix: redis.prefix,
      kubeconfigPath: cluster.kubeconfigPath,
      replicas: { 'capture-worker': 1, 'pod-worker': 1, 'metrics-worker': 1 },
      env: { WORKER_LOCK_DURATION_MS: '15000', WORKER_STALLED_INTERVAL_MS: '2000' },
    });
  }, 240_000);

  afterAll(async () => {
    await system.stop();
    await cleanupRedis();
    await cluster.stop();
  });

  it('resumes the watch and completes the migration in the same attempt', async () => {
    const pod = await readyWorkload(cluster.kubeConfig, namespace.name, 'apiserver', {
      readyAfter: 12,
    });
    const id = await system.submit(migration(pod));
    const { replica } = await system.firstToLog('pod-worker', stageLine(id, 'new pod created'));

    await cluster.apiserver.stop();
    tally.fault();
    // The outage must be felt: the watch and every read fail while it lasts.
    await expect(core.listNamespacedPod({ namespace: namespace.name })).rejects.toThrow();
    await cluster.apiserver.start();
    const record = await system.finished(id);

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.stages.pod.attempts).toBe(1);
    expect(replica.logged(stageLine(id, 'new pod ready'))).toHaveLength(1);
    await expectSettled(tally, core, system.store, pod, id);
  });
});
