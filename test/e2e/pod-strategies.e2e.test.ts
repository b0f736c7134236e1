import { randomUUID } from 'node:crypto';

import {
  AppsV1Api,
  CoreV1Api,
  PolicyV1Api,
  Watch,
  type KubeConfig,
  type V1Affinity,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  waitForPod,
  type TestNamespace,
} from '../setup/kube.ts';
import { StagePipeline } from '../support/stage-pipeline.ts';
import { podEventReasons, staticClaim } from '../support/static-claim.ts';

const NODES = ['worker-1', 'worker-2', 'worker-3'];

/** How long the ReplicaSet's pods are watched once the hand-off has settled. */
const QUIET_PERIOD_MS = 5_000;

let kubeConfig: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let policy: PolicyV1Api;
let namespace: TestNamespace;
let pipeline: StagePipeline;
const volumes: { delete(): Promise<void> }[] = [];

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  apps = kubeConfig.makeApiClient(AppsV1Api);
  policy = kubeConfig.makeApiClient(PolicyV1Api);
  namespace = await createTestNamespace(kubeConfig, 'strategies');
  pipeline = await StagePipeline.start(inject('kubeconfigPath'));
});

afterAll(async () => {
  await pipeline.stop();
  await namespace.delete();
  await Promise.all(volumes.map((volume) => volume.delete()));
});

function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 6)}`;
}

function isReady(pod: V1Pod | undefined | null): boolean {
  return Boolean(pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

interface PodOptions {
  claim?: string;
  affinity?: V1Affinity;
}

/** A one-container pod labelled app=<name>, pinned to `node`, that resolves once Ready. */
async function readyPod(name: string, node: string, options: PodOptions = {}): Promise<V1Pod> {
  const mounts = options.claim ? [{ name: 'data', mountPath: '/data' }] : [];
  const volumes = options.claim
    ? [{ name: 'data', persistentVolumeClaim: { claimName: options.claim } }]
    : [];
  await core.createNamespacedPod({
    namespace: namespace.name,
    body: {
      metadata: { name, labels: { app: name } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            resources: { requests: { cpu: '50m', memory: '32Mi' } },
            volumeMounts: mounts,
          },
        ],
        volumes,
        ...(options.affinity ? { affinity: options.affinity } : {}),
      },
    },
  });
  const pod = await waitForPod(kubeConfig, namespace.name, name, isReady, {
    what: `pod ${name} Ready`,
    timeoutMs: 30_000,
  });
  return pod as V1Pod;
}

async function readPodOrNull(name: string): Promise<V1Pod | null> {
  try {
    return await core.readNamespacedPod({ name, namespace: namespace.name });
  } catch {
    return null;
  }
}

async function waitUntilGone(name: string, uid: string | undefined): Promise<void> {
  await waitForPod(kubeConfig, namespace.name, name, (pod) => pod?.metadata?.uid !== uid, {
    what: `pod ${name} (${uid ?? ''}) to be gone`,
    timeoutMs: 30_000,
  });
}

function migrate(
  pod: string,
  source: string,
  target: string,
  extra: { timeout?: number; force?: boolean; preserve_pv?: boolean } = {},
): Promise<MigrationRecord> {
  return pipeline
    .submit({
      pod_name: pod,
      pod_namespace: namespace.name,
      source_node: source,
      target_node: target,
      timeout: 60,
      ...extra,
    })
    .then((id) => pipeline.finished(id));
}

function eventsOf(pod: string): Promise<string[]> {
  return podEventReasons(core, namespace.name, pod);
}

/** Every pod name a label selector matches from now on, as a watch reports them. */
async function watchPodNames(labelSelector: string) {
  const list = await core.listNamespacedPod({ namespace: namespace.name, labelSelector });
  const names = new Set(list.items.map((pod) => pod.metadata?.name ?? ''));
  let ended: unknown = undefined;

  const controller = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace.name}/pods`,
    { labelSelector, resourceVersion: list.metadata?.resourceVersion },
    (type: string, pod: V1Pod) => {
      if (type === 'ADDED' || type === 'MODIFIED') names.add(pod.metadata?.name ?? '');
    },
    (error: unknown) => {
      ended = error ?? 'the watch ended';
    },
  );
  return {
    names,
    stop(): unknown {
      const reason = ended;
      controller.abort();
      return reason;
    },
  };
}

describe('a pod of a ReplicaSet', () => {
  it('is handed to its ReplicaSet: same replica count, one on the target, nothing else started', async () => {
    const name = unique('web');
    await apps.createNamespacedDeployment({
      namespace: namespace.name,
      body: {
        metadata: { name },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              terminationGracePeriodSeconds: 5,
              containers: [
                {
                  name: 'web',
                  image: 'nginx:1.27',
                  resources: { requests: { cpu: '50m', memory: '32Mi' } },
                },
              ],
            },
          },
        },
      },
    });
    const replicas = await eventually(
      async () => {
        const list = await core.listNamespacedPod({
          namespace: namespace.name,
          labelSelector: `app=${name}`,
        });
        const ready = list.items.filter(isReady);
        return ready.length === 2 ? ready : undefined;
      },
      { what: `two Ready replicas of ${name}`, timeoutMs: 60_000 },
    );
    const [original, other] = replicas as [V1Pod, V1Pod];
    const source = original.spec?.nodeName ?? '';
    const target = NODES.find((node) => !replicas.some((p) => p.spec?.nodeName === node)) ?? '';
    const replicaSetName = original.metadata?.ownerReferences?.[0]?.name ?? '';
    const seen = await watchPodNames(`app=${name}`);

    const record = await migrate(original.metadata?.name ?? '', source, target);

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.details).toMatchObject({
      strategy: 'replicaset-handoff',
      removal: 'replicaset',
      downtime_ms: 0,
      new_pod_node: target,
    });
    expect(record.details.warnings.join('\n')).not.toMatch(/instead of the original/);
    const newName = record.details.new_pod_name ?? '';

    // The ReplicaSet settles at two Ready replicas: the other one and the new pod.
    const replicaSet = await eventually(
      async () => {
        const rs = await apps.readNamespacedReplicaSet({
          name: replicaSetName,
          namespace: namespace.name,
        });
        const settled = rs.status?.replicas === 2 && rs.status.readyReplicas === 2;
        return settled && (await readPodOrNull(original.metadata?.name ?? '')) === null
          ? rs
          : undefined;
      },
      { what: `ReplicaSet ${replicaSetName} to settle`, timeoutMs: 30_000 },
    );

    // Nothing else may start once it has settled: watch a while, then count.
    await new Promise((resolve) => setTimeout(resolve, QUIET_PERIOD_MS));
    expect(seen.stop()).toBeUndefined();
    expect([...seen.names].sort()).toEqual(
      [original.metadata?.name ?? '', other.metadata?.name ?? '', newName].sort(),
    );

    const pods = await core.listNamespacedPod({
      namespace: namespace.name,
      labelSelector: `app=${name}`,
    });
    expect(pods.items.map((p) => [p.metadata?.name, p.spec?.nodeName]).sort()).toEqual(
      [
        [other.metadata?.name, other.spec?.nodeName],
        [newName, target],
      ].sort(),
    );
    const adopted = pods.items.find((p) => p.metadata?.name === newName);
    expect(adopted?.metadata?.ownerReferences).toMatchObject([
      { kind: 'ReplicaSet', uid: replicaSet.metadata?.uid, controller: true },
    ]);
    expect(adopted?.metadata?.annotations?.['aso.dev/handoff-labels']).toBeUndefined();
    const deployment = await apps.readNamespacedDeployment({ name, namespace: namespace.name });
    expect(deployment.spec?.replicas).toBe(2);

    expect(await eventsOf(original.metadata?.name ?? '')).toEqual(
      expect.arrayContaining([
        'MigrationStarted',
        'NewPodCreated',
        'NewPodReady',
        'DeletionCostLowered',
        'OriginalRemoved',
      ]),
    );
    expect(await eventsOf(newName)).toEqual(
      expect.arrayContaining([
        'NewPodCreated',
        'NewPodReady',
        'JoinedReplicaSet',
        'OriginalRemoved',
      ]),
    );
  });
});

describe('a pod with a ReadWriteOnce claim', () => {
  it('moves break-before-make: the original goes first, the claim is mounted on the target', async () => {
    const name = unique('db');
    const claim = await staticClaim(core, namespace.name, `${name}-data`);
    volumes.push(claim);
    const original = await readyPod(name, 'worker-1', { claim: claim.name });

    const record = await migrate(name, 'worker-1', 'worker-2');

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    const details = record.details;
    expect(details).toMatchObject({ strategy: 'break-before-make', removal: 'evicted' });
    const removedAt = Date.parse(details.original_removed_at ?? '');
    const readyAt = Date.parse(details.new_pod_ready_at ?? '');
    expect(details.downtime_ms).toBe(readyAt - removedAt);
    expect(details.downtime_ms).toBeGreaterThan(0);

    const newPod = await core.readNamespacedPod({
      name: details.new_pod_name ?? '',
      namespace: namespace.name,
    });
    expect(newPod.spec?.nodeName).toBe('worker-2');
    expect(isReady(newPod)).toBe(true);
    expect(newPod.spec?.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: claim.name },
    });
    expect((await readPodOrNull(name))?.metadata?.uid === original.metadata?.uid).toBe(false);
    const bound = await core.readNamespacedPersistentVolumeClaim({
      name: claim.name,
      namespace: namespace.name,
    });
    expect(bound.status?.phase).toBe('Bound');

    expect(await eventsOf(name)).toEqual(
      expect.arrayContaining(['MigrationStarted', 'OriginalEvicted', 'OriginalRemoved']),
    );
    expect(await eventsOf(newPod.metadata?.name ?? '')).toEqual(
      expect.arrayContaining(['NewPodCreated', 'NewPodReady']),
    );
  });

  it('moves a second time break-before-make when the pod mounts its ReadWriteOnce checkpoint claim', async () => {
    const name = unique('train');
    const checkpoint = await staticClaim(core, namespace.name, `${name}-checkpoint`, {
      labels: { 'aso.dev/checkpoint': 'true', 'aso.dev/workload': name },
    });
    volumes.push(checkpoint);
    await readyPod(name, 'worker-1');

    const first = await migrate(name, 'worker-1', 'worker-2', { preserve_pv: true });
    expect(first.error).toBeNull();
    expect(first.details).toMatchObject({ strategy: 'make-before-break', downtime_ms: 0 });
    const moved = first.details.new_pod_name ?? '';

    const second = await migrate(moved, 'worker-2', 'worker-3', { preserve_pv: true });

    expect(second.error).toBeNull();
    expect(second.status).toBe('completed');
    expect(second.details).toMatchObject({
      strategy: 'break-before-make',
      removal: 'evicted',
      pv_claim_name: checkpoint.name,
    });
    expect(second.progress.claim_created).toBe(false);
    expect(second.details.downtime_ms).toBeGreaterThan(0);
    const again = await core.readNamespacedPod({
      name: second.details.new_pod_name ?? '',
      namespace: namespace.name,
    });
    expect(again.metadata?.name?.length).toBe(moved.length);
    expect(again.spec?.nodeName).toBe('worker-3');
    expect(again.spec?.volumes).toContainEqual({
      name: 'migration-checkpoint',
      persistentVolumeClaim: { claimName: checkpoint.name },
    });
    expect(await readPodOrNull(moved)).toBeNull();
    const claim = await core.readNamespacedPersistentVolumeClaim({
      name: checkpoint.name,
      namespace: namespace.name,
    });
    expect(claim.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('re-creates the original on the source when the new pod cannot run on the target', async () => {
    const name = unique('stuck');
    const claim = await staticClaim(core, namespace.name, `${name}-data`);
    volumes.push(claim);
    const original = await readyPod(name, 'worker-1', { claim: claim.name });
    // A pod on the target that tolerates no app=<name> beside it: the scheduler keeps
    // the new pod off worker-2, so it never becomes Ready.
    await readyPod(`${name}-guard`, 'worker-2', {
      affinity: {
        podAntiAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: [
            {
              labelSelector: { matchLabels: { app: name } },
              topologyKey: 'kubernetes.io/hostname',
            },
          ],
        },
      },
    });

    const record = await migrate(name, 'worker-1', 'worker-2', { timeout: 15 });

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({
      code: 'new-pod-not-ready',
      stage: 'pod',
      rolled_back: true,
    });
    expect(record.error?.message).toMatch(/did not become Ready/);
    expect(record.error?.message).toMatch(/the original was re-created on worker-1 and is Ready/);
    expect(record.details.removal).toBe('evicted');
    expect(record.progress.original_recreated).toBe(true);
    expect(record.details.original_recreated_at).not.toBeNull();

    // The original survives as a new pod of the same name on the source, with its claim.
    const restored = await readPodOrNull(name);
    expect(restored?.metadata?.uid).not.toBe(original.metadata?.uid);
    expect(restored?.metadata?.annotations?.['aso.dev/recreated-by-migration']).toBe(
      record.migration_id,
    );
    expect(restored?.spec?.nodeName).toBe('worker-1');
    expect(isReady(restored)).toBe(true);
    expect(restored?.spec?.volumes).toContainEqual({
      name: 'data',
      persistentVolumeClaim: { claimName: claim.name },
    });
    const newName = record.details.new_pod_name ?? '';
    await waitUntilGone(newName, record.details.new_pod_uid ?? undefined);

    // A rollback run again, as after a crash in the middle of one, adopts the
    // re-created original instead of making another.
    const undone = await pipeline.podStage.rollback?.(await pipeline.context(record.migration_id));
    expect(undone).toContain(`re-created the original ${name} on worker-1`);
    expect((await readPodOrNull(name))?.metadata?.uid).toBe(restored?.metadata?.uid);

    expect(await eventsOf(name)).toEqual(
      expect.arrayContaining([
        'MigrationStarted',
        'OriginalEvicted',
        'OriginalRemoved',
        'OriginalRecreated',
      ]),
    );
    expect(await eventsOf(newName)).toEqual(
      expect.arrayContaining(['NewPodCreated', 'MigrationRolledBack']),
    );
  });
});

describe('a PodDisruptionBudget', () => {
  /**
   * A budget that allows no disruption: the new pod carries the original's labels, so
   * the budget counts both, and minAvailable is that count.
   */
  async function guardedPod(prefix: string): Promise<V1Pod> {
    const name = unique(prefix);
    const pod = await readyPod(name, 'worker-1');
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
        const observed = pdb.status?.observedGeneration === pdb.metadata?.generation;
        return observed && pdb.status?.expectedPods === 1;
      },
      { what: `budget ${name} observed`, timeoutMs: 30_000 },
    );
    return pod;
  }

  it('that blocks fails the migration after its deadline, leaving the original untouched', async () => {
    const original = await guardedPod('guarded');
    const name = original.metadata?.name ?? '';

    const record = await migrate(name, 'worker-1', 'worker-2', { timeout: 15 });

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({
      code: 'disruption-budget-blocked',
      stage: 'pod',
      rolled_back: true,
    });
    expect(record.details.removal).toBeNull();
    const survivor = await readPodOrNull(name);
    expect(survivor?.metadata?.uid).toBe(original.metadata?.uid);
    expect(survivor?.metadata?.deletionTimestamp).toBeUndefined();
    expect(isReady(survivor)).toBe(true);
    const newName = record.details.new_pod_name ?? '';
    await waitUntilGone(newName, record.details.new_pod_uid ?? undefined);

    expect(await eventsOf(name)).toEqual(
      expect.arrayContaining(['MigrationStarted', 'EvictionBlocked', 'MigrationRolledBack']),
    );
    expect(await eventsOf(newName)).toEqual(
      expect.arrayContaining(['NewPodCreated', 'NewPodReady', 'MigrationRolledBack']),
    );
  });

  it('is bypassed with force: the original is deleted instead of evicted', async () => {
    const original = await guardedPod('forced');
    const name = original.metadata?.name ?? '';

    const record = await migrate(name, 'worker-1', 'worker-2', { timeout: 15, force: true });

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.details).toMatchObject({
      strategy: 'make-before-break',
      removal: 'deleted',
      downtime_ms: 0,
      new_pod_node: 'worker-2',
    });
    expect((await readPodOrNull(name))?.metadata?.uid === original.metadata?.uid).toBe(false);
    expect(await eventsOf(name)).toEqual(
      expect.arrayContaining(['MigrationStarted', 'OriginalDeleted', 'OriginalRemoved']),
    );
  });
});
