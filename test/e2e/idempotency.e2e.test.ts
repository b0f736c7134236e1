import { randomUUID } from 'node:crypto';

import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createKubeClients,
  createLogger,
  createRedis,
  MigrationStore,
  newMigrationRecord,
  type KubeClients,
  type MigrationRecord,
  type StageContext,
  type StageHandler,
} from '@aso/shared';
import { createCaptureStage } from '@aso/capture-worker';
import { createPodStage } from '@aso/pod-worker';

import { testRedis, type TestRedis } from '../support/redis.ts';
import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';

let redis: TestRedis;
let store: MigrationStore;
let namespace: TestNamespace;
let kube: KubeClients;
let core: CoreV1Api;

beforeAll(async () => {
  const kubeConfig = loadTestKubeConfig();
  kube = createKubeClients(kubeConfig);
  core = kubeConfig.makeApiClient(CoreV1Api);
  redis = testRedis();
  store = new MigrationStore(createRedis(redis.url, 'worker', 'test:store'), redis.prefix);
  namespace = await createTestNamespace(kubeConfig, 'idempotent');
});

afterAll(async () => {
  await namespace.delete();
  await redis.cleanup();
});

function context(record: MigrationRecord): StageContext {
  return {
    record,
    store,
    log: createLogger('idempotency-test', 'silent'),
    attempt: 1,
    now: () => new Date(),
    remainingMs: () => Math.max(0, Date.parse(record.deadline_at) - Date.now()),
    signal: new AbortController().signal,
  };
}

async function runStage(handler: StageHandler, migrationId: string) {
  return handler.run(context(await store.require(migrationId)));
}

async function runningPod(name: string): Promise<V1Pod> {
  await core.createNamespacedPod({
    namespace: namespace.name,
    body: {
      metadata: { name, labels: { app: name } },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': 'worker-1' },
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            resources: { requests: { cpu: '100m', memory: '64Mi' } },
          },
        ],
      },
    },
  });
  return eventually(
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace: namespace.name });
      return pod.status?.phase === 'Running' ? pod : undefined;
    },
    { what: `pod ${name} to run`, timeoutMs: 30_000 },
  );
}

/** A migration of `podName` that has been through the capture stage. */
async function capturedMigration(podName: string, source: string, target: string): Promise<string> {
  const record = newMigrationRecord(
    randomUUID(),
    {
      pod_name: podName,
      pod_namespace: namespace.name,
      source_node: source,
      target_node: target,
      preserve_pv: true,
      dry_run: false,
      force: false,
      timeout: 120,
    },
    new Date(),
  );
  await store.create(record);
  await runStage(createCaptureStage(kube), record.migration_id);
  return record.migration_id;
}

function podStage(): StageHandler {
  return createPodStage(kube, {
    checkpoint: { size: '1Gi', storageClass: undefined },
    stabilisationDelayMs: 0,
    removalSlackMs: 30_000,
  });
}

describe('a pod stage that runs twice', () => {
  it('creates one new pod and one claim, whether the runs overlap or follow each other', async () => {
    const name = `twice-${randomUUID().slice(0, 6)}`;
    await runningPod(name);
    const migrationId = await capturedMigration(name, 'worker-1', 'worker-3');
    const stage = podStage();

    // Two workers on the same job at once, as after a stalled lock, then a late retry.
    const overlapping = await Promise.all([
      runStage(stage, migrationId),
      runStage(stage, migrationId),
    ]);
    const retried = await runStage(stage, migrationId);

    for (const result of [...overlapping, retried]) expect(result.next?.stage).toBe('metrics');
    const pods = await core.listNamespacedPod({
      namespace: namespace.name,
      labelSelector: `aso.dev/migration-id=${migrationId}`,
    });
    expect(pods.items.map((p) => p.spec?.nodeName)).toEqual(['worker-3']);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: namespace.name });
    expect(claims.items.map((c) => c.metadata?.name)).toEqual([`${name}-checkpoint`]);

    const after = await store.require(migrationId);
    expect(after.progress).toEqual({
      claim_created: true,
      new_pod_created: true,
      original_removed: true,
      original_recreated: false,
      switch_started: true,
    });
    await expect(core.readNamespacedPod({ name, namespace: namespace.name })).rejects.toMatchObject(
      { code: 404 },
    );
  });

  it('reuses the checkpoint claim when the pod moves again, and its rollback leaves the claim alone', async () => {
    const name = `again-${randomUUID().slice(0, 6)}`;
    await runningPod(name);
    const stage = podStage();

    const first = await capturedMigration(name, 'worker-1', 'worker-2');
    await runStage(stage, first);
    const moved = (await store.require(first)).details.new_pod_name ?? '';
    // The metrics stage is left out here; the first migration must end before its new
    // pod may move again.
    await store.update(first, (r) => {
      r.status = 'completed';
    });

    const second = await capturedMigration(moved, 'worker-2', 'worker-1');
    const undone = await stage.rollback?.(context(await store.require(second)));

    expect(undone).toEqual([]);
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: namespace.name });
    const live = claims.items.filter(
      (c) => c.metadata?.name === `${name}-checkpoint` && !c.metadata.deletionTimestamp,
    );
    expect(live).toHaveLength(1);

    await runStage(stage, second);
    const final = await store.require(second);
    expect(final.details.pv_claim_name).toBe(`${name}-checkpoint`);
    expect(final.progress.claim_created).toBe(false);
    expect(final.details.new_pod_name?.startsWith(`${name}-m`)).toBe(true);
    expect(final.details.new_pod_name?.length).toBe(name.length + 8);
  });
});

describe('a pod stage that fails for good', () => {
  it('goes forward when the switch began and the new pod is Ready, and rolls back before that', async () => {
    const name = `forward-${randomUUID().slice(0, 6)}`;
    await runningPod(name);
    const stage = podStage();
    const lost = new Error('job stalled more than allowable limit');

    const migrationId = await capturedMigration(name, 'worker-1', 'worker-2');
    const beforeSwitch = await stage.salvage?.(context(await store.require(migrationId)), lost);
    await runStage(stage, migrationId);
    const afterSwitch = await stage.salvage?.(context(await store.require(migrationId)), lost);

    expect(beforeSwitch).toBeNull();
    expect(afterSwitch).toEqual({ next: { stage: 'metrics', delayMs: 0 } });
    const record = await store.require(migrationId);
    expect(record.details.warnings.at(-1)).toMatch(
      /failed after the switch began \(job stalled.*\); the new pod .* is Ready, so the migration went forward/,
    );
  });
});
