import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';

import { CoreV1Api, PolicyV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';
import { FaultSystem, type WorkerName } from '../support/fault-system.ts';
import { expectSettled, FaultTally } from '../support/fault-tally.ts';
import { readyWorkload } from '../support/fault-workload.ts';
import { staticClaim } from '../support/static-claim.ts';
import { testRedis, type TestRedis } from '../support/redis.ts';
import { stageLine, type LogLine, type ServiceProcess } from '../support/service-processes.ts';

/**
 * Workers die at chosen moments of each stage (SIGKILL: no chance to clean up, or
 * SIGTERM: a clean stop with a bound), and another replica must take the job up and
 * finish the migration, or fail it with the cluster put back: in every case one
 * pod of the workload is left, no checkpoint claim is orphaned, no record is lost.
 */

const SHUTDOWN_TIMEOUT_MS = 8_000;

let kubeConfig: KubeConfig;
let core: CoreV1Api;
let policy: PolicyV1Api;
let namespace: TestNamespace;
let redis: TestRedis;
let system: FaultSystem;
const tally = new FaultTally('faults-workers');
const volumes: { delete(): Promise<void> }[] = [];

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  policy = kubeConfig.makeApiClient(PolicyV1Api);
  namespace = await createTestNamespace(kubeConfig, 'faults');
  redis = testRedis();
  system = await FaultSystem.start({
    redisUrl: redis.url,
    prefix: redis.prefix,
    kubeconfigPath: inject('kubeconfigPath'),
    replicas: { 'capture-worker': 2, 'pod-worker': 2, 'metrics-worker': 2 },
    env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
  });
});

// A test that failed half-way may have left fewer replicas than the next one needs.
beforeEach(async () => {
  await Promise.all([topUp('capture-worker'), topUp('pod-worker'), topUp('metrics-worker')]);
});

afterAll(async () => {
  tally.print();
  await system.stop();
  await namespace.delete();
  await Promise.all(volumes.map((volume) => volume.delete()));
  await redis.cleanup();
});

function workload(prefix: string, readyAfter = 1): Promise<V1Pod> {
  return readyWorkload(kubeConfig, namespace.name, prefix, { readyAfter });
}

/** A pod mounting a ReadWriteOnce claim of its own: it moves break-before-make. */
async function workloadWithClaim(prefix: string): Promise<V1Pod> {
  const claim = await staticClaim(core, namespace.name, `${prefix}-${randomUUID().slice(0, 6)}`);
  volumes.push(claim);
  return readyWorkload(kubeConfig, namespace.name, prefix, { claim: claim.name });
}

function migrate(pod: V1Pod, fields: Record<string, unknown> = {}): Promise<string> {
  return system.submit({
    pod_name: pod.metadata?.name,
    pod_namespace: namespace.name,
    source_node: 'worker-1',
    target_node: 'worker-2',
    timeout: 90,
    ...fields,
  });
}

/** SIGKILLs the replica of `service` that logs the line first, at once. */
async function killWhen(
  service: WorkerName,
  match: (line: LogLine) => boolean,
): Promise<{ replica: ServiceProcess; line: LogLine }> {
  const found = await system.firstToLog(service, match);
  found.replica.signal('SIGKILL');
  tally.fault();
  await found.replica.exited;
  return found;
}

/** Keeps `count` replicas of a service alive (after kills). */
async function topUp(service: WorkerName, count = 2): Promise<void> {
  while (system.replicas(service).length < count) await system.add(service);
}

/** Checks the end state of a migration and counts it. */
function settled(pod: V1Pod, migrationId: string): Promise<MigrationRecord> {
  return expectSettled(tally, core, system.store, pod, migrationId);
}

describe('a worker SIGKILLed in the middle of a stage', () => {
  it('capture: another replica captures again and the migration completes', async () => {
    const pod = await workload('kill-capture');
    const id = await migrate(pod);

    await killWhen('capture-worker', stageLine(id, 'stage started'));
    const record = await system.finished(id);

    expect(record.error).toBeNull();
    expect(record.stages.capture.attempts).toBe(2);
    await settled(pod, id);
  });

  it.each([
    ['before anything of the switch exists', 'stage started'],
    ['after the checkpoint claim, before the new pod', 'checkpoint claim ready'],
  ])('pod stage %s: the claim is reused and one new pod made', async (_when, message) => {
    const pod = await workload('kill-pod-early');
    const id = await migrate(pod, { preserve_pv: true });

    await killWhen('pod-worker', stageLine(id, message));
    const record = await system.finished(id);

    expect(record.error).toBeNull();
    expect(record.stages.pod.attempts).toBe(2);
    expect(record.details.pv_claim_name).toBe(`${pod.metadata?.name ?? ''}-checkpoint`);
    await settled(pod, id);
  });

  it('pod stage while the new pod waits to be Ready: the next replica adopts that pod', async () => {
    const pod = await workload('kill-ready-wait', 5);
    const id = await migrate(pod, { preserve_pv: true });

    const { line: created } = await killWhen('pod-worker', stageLine(id, 'new pod created'));
    const record = await system.finished(id);

    expect(created['created']).toBe(true);
    expect(record.error).toBeNull();
    expect(record.stages.pod.attempts).toBe(2);
    await settled(pod, id);
  });

  it('pod stage while a disruption budget holds the original: the next replica evicts it', async () => {
    const pod = await workload('kill-removal');
    const name = pod.metadata?.name ?? '';
    await blockingBudget(name);
    const id = await migrate(pod);

    const { replica: killed } = await killWhen(
      'pod-worker',
      stageLine(id, 'eviction refused, will retry'),
    );
    const [survivor] = system.replicas('pod-worker');
    await survivor?.waitForLog(stageLine(id, 'eviction refused, will retry'), 30_000);
    await policy.deleteNamespacedPodDisruptionBudget({ name, namespace: namespace.name });
    const record = await system.finished(id);

    expect(killed.hasExited()).toBe(true);
    expect(record.error).toBeNull();
    expect(record.details.removal).toBe('evicted');
    expect(record.stages.pod.attempts).toBe(2);
    await settled(pod, id);
  });

  it('pod stage of a break-before-make once the original is evicted: the next replica starts the new pod', async () => {
    const pod = await workloadWithClaim('kill-bbm');
    const id = await migrate(pod);

    await killWhen('pod-worker', stageLine(id, 'original removal requested'));
    const record = await system.finished(id);

    expect(record.error).toBeNull();
    expect(record.details.strategy).toBe('break-before-make');
    expect(record.stages.pod.attempts).toBe(2);
    const settledRecord = await settled(pod, id);
    const survivor = await core.readNamespacedPod({
      name: settledRecord.details.new_pod_name ?? '',
      namespace: namespace.name,
    });
    expect(survivor.spec?.volumes?.map((v) => v.persistentVolumeClaim?.claimName)).toContain(
      pod.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName,
    );
  });

  it('metrics: another replica measures and completes the migration', async () => {
    const pod = await workload('kill-metrics');
    const id = await migrate(pod);

    await killWhen('metrics-worker', stageLine(id, 'stage started'));
    const record = await system.finished(id);

    expect(record.status).toBe('completed');
    expect(record.stages.metrics.attempts).toBe(2);
    await settled(pod, id);
  });
});

describe('a stage job that loses more workers than maxStalledCount allows', () => {
  it('fails for good without a retry, and its migration is rolled back', async () => {
    await topUp('pod-worker', 3);
    const pod = await workload('stalled-twice');
    const id = await migrate(pod, { preserve_pv: true });

    await killWhen('pod-worker', stageLine(id, 'new pod created'));
    await killWhen('pod-worker', stageLine(id, 'new pod created'));
    const record = await system.finished(id);

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ code: 'worker-lost', stage: 'pod', rolled_back: true });
    expect(record.error?.message).toMatch(/stalled more than allowable limit/);
    const job = await system.job('pod', id);
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect(record.stages.pod.attempts).toBe(2);
    await settled(pod, id);
  });
});

describe('a break-before-make job that loses too many workers after the original left', () => {
  it('fails and creates the original again on the source, so the workload keeps a pod', async () => {
    await topUp('pod-worker', 3);
    const pod = await workloadWithClaim('stalled-bbm');
    const id = await migrate(pod);

    await killWhen('pod-worker', stageLine(id, 'original removal requested'));
    await killWhen('pod-worker', stageLine(id, 'new pod created'));
    const record = await system.finished(id);

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ stage: 'pod', rolled_back: true });
    expect(record.progress.original_recreated).toBe(true);
    await settled(pod, id);
  });
});

describe('a worker stopped with SIGTERM', () => {
  it('stops taking jobs and finishes its current one within SHUTDOWN_TIMEOUT_MS', async () => {
    const pod = await workload('term-finish', 2);
    const id = await migrate(pod);

    const { replica } = await system.firstToLog('pod-worker', stageLine(id, 'new pod created'));
    const mark = replica.lineCount();
    const stoppedAt = Date.now();
    replica.signal('SIGTERM');
    tally.fault();
    const exit = await replica.exited;
    const record = await system.finished(id);

    expect(exit.code).toBe(0);
    expect(exit.at - stoppedAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    const afterStop = replica.logged(() => true).slice(mark);
    expect(afterStop.filter(stageLine(id, 'stage finished'))).toHaveLength(1);
    expect(afterStop.filter((line) => line.msg === 'stage started')).toEqual([]);
    expect(replica.logged((line) => line.msg === 'leaving unfinished jobs')).toEqual([]);
    expect(record.error).toBeNull();
    expect(record.stages.pod.attempts).toBe(1);
    await settled(pod, id);
  });

  it('leaves a job it cannot finish in time to another replica, and exits in the bound', async () => {
    const pod = await workload('term-release');
    const name = pod.metadata?.name ?? '';
    await blockingBudget(name);
    const id = await migrate(pod);

    const blocked = stageLine(id, 'eviction refused, will retry');
    const { replica } = await system.firstToLog('pod-worker', blocked);
    const stoppedAt = Date.now();
    replica.signal('SIGTERM');
    tally.fault();
    const exit = await replica.exited;
    const [other] = system.replicas('pod-worker');
    await other?.waitForLog(blocked, 30_000);
    await policy.deleteNamespacedPodDisruptionBudget({ name, namespace: namespace.name });
    const record = await system.finished(id);

    expect(exit.code).toBe(0);
    expect(exit.at - stoppedAt).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 100);
    expect(exit.at - stoppedAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    expect(replica.logged((line) => line.msg === 'leaving unfinished jobs')).toHaveLength(1);
    expect(record.error).toBeNull();
    expect(record.stages.pod.attempts).toBe(2);
    await settled(pod, id);
  });
});

/** A budget that allows no disruption once the new pod (same labels) is Ready too. */
async function blockingBudget(name: string): Promise<void> {
  await policy.createNamespacedPodDisruptionBudget({
    namespace: namespace.name,
    body: {
      metadata: { name },
      spec: { minAvailable: 2, selector: { matchLabels: { app: name } } },
    },
  });
  await eventually(
    async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({
        name,
        namespace: namespace.name,
      });
      return pdb.status?.observedGeneration === pdb.metadata?.generation;
    },
    { what: `budget ${name} observed`, timeoutMs: 30_000 },
  );
}

describe('the API stopped with SIGTERM', () => {
  it('answers the request in flight, refuses new connections, and exits', async () => {
    const token = randomBytes(24).toString('hex');
    const api = await system.add('api', {
      HOST: '127.0.0.1',
      PORT: '0',
      ASO_API_TOKENS: `read-write:${token}`,
    });
    const listening = await api.waitForLog((line) => line.msg === 'api listening', 1_000);
    const { hostname, port } = new URL(String(listening['url']));
    const body = JSON.stringify({
      pod_name: 'absent',
      pod_namespace: namespace.name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      dry_run: true,
    });

    const request = await openRequest(hostname, Number(port), token, body);
    const stoppedAt = Date.now();
    api.signal('SIGTERM');
    tally.fault();
    await eventually(async () => !(await connects(hostname, Number(port))), {
      what: 'the API to stop listening',
      timeoutMs: 5_000,
    });
    const answer = await request.finish();
    const exit = await api.exited;

    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(answer).toContain('pod-not-found');
    expect(exit.code).toBe(0);
    expect(exit.at - stoppedAt).toBeLessThan(10_000);
  });
});

/**
 * A POST whose headers and first half of the body are sent: the server is working
 * on it until `finish` sends the rest and reads the whole answer.
 */
async function openRequest(
  host: string,
  port: number,
  token: string,
  body: string,
): Promise<{ finish(): Promise<string> }> {
  const socket = connect(port, host);
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const closed = once(socket, 'close');

  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /api/v1/migrations HTTP/1.1\r\nHost: ${host}:${port}\r\n` +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  // Nothing the server exposes tells when it has read the headers; it takes microseconds.
  await new Promise((resolve) => setTimeout(resolve, 300));

  return {
    async finish() {
      socket.write(body.slice(half));
      await closed;
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

async function connects(host: string, port: number): Promise<boolean> {
  const socket = connect(port, host);
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}
