import { randomUUID } from 'node:crypto';

import {
  AppsV1Api,
  BatchV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationPlan } from '@aso/shared';

import { eventually, loadTestKubeConfig } from '../setup/kube.ts';
import { isRunning, OrchestratorHarness } from '../support/orchestrator-harness.ts';

let h: OrchestratorHarness;
let apps: AppsV1Api;
let batch: BatchV1Api;

beforeAll(async () => {
  h = await OrchestratorHarness.start('preflight', inject('kubeconfigPath'));
  const kubeConfig = loadTestKubeConfig();
  apps = kubeConfig.makeApiClient(AppsV1Api);
  batch = kubeConfig.makeApiClient(BatchV1Api);
});

afterAll(async () => {
  await h.stop();
});

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Changes worker-3 for one test and puts it back afterwards. */
async function withTargetChanged(spec: object, test: () => Promise<void>): Promise<void> {
  await h.core.patchNode({ name: 'worker-3', body: { spec } }, mergePatch);
  try {
    await test();
  } finally {
    await h.core.patchNode(
      { name: 'worker-3', body: { spec: { unschedulable: null, taints: null } } },
      mergePatch,
    );
  }
}

async function dryRun(pod: V1Pod, target = 'worker-2'): Promise<MigrationPlan> {
  const response = await h.post({
    pod_name: pod.metadata?.name,
    source_node: pod.spec?.nodeName,
    target_node: target,
    dry_run: true,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body as { plan: MigrationPlan }).plan;
}

function requests(cpu: string, memory: string) {
  return { requests: { cpu, memory }, limits: { cpu, memory } };
}

describe('dry run', () => {
  it('answers the plan, creates nothing, and reports a QoS change', async () => {
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'plan',
        annotations: { 'sim.aso.dev/exit': 'loader=0@1' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'loader', image: 'busybox:1.36' },
            { name: 'trainer', image: 'trainer:1', resources: requests('500m', '256Mi') },
          ],
        },
      },
      (p) =>
        p.status?.containerStatuses?.find((c) => c.name === 'loader')?.state?.terminated !==
        undefined,
    );

    const plan = await dryRun(pod);

    expect(plan.kept_containers).toEqual(['trainer']);
    expect(plan.containers.find((c) => c.name === 'loader')).toMatchObject({ keep: false });
    expect(plan.resources.before.qos_class).toBe('Burstable');
    expect(plan.resources.after.qos_class).toBe('Guaranteed');
    expect(plan.warnings.join('\n')).toMatch(/QoS/);
    expect(plan.volumes.strategy).toBe('make-before-break');
    expect(plan.controller).toEqual({ kind: 'none' });
    expect(plan.target_node).toBe('worker-2');

    const pods = await h.core.listNamespacedPod({ namespace: h.namespace.name });
    expect(pods.items.map((p) => p.metadata?.name)).toEqual([pod.metadata?.name]);
    const list = (await h.api('/api/v1/migrations')).body as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it('keeps a crash-looping container and a completed one under restartPolicy Always', async () => {
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'always',
        annotations: { 'sim.aso.dev/exit': 'crasher=1@0,finisher=0@0' },
        spec: {
          restartPolicy: 'Always',
          containers: [
            { name: 'crasher', image: 'app:1' },
            { name: 'finisher', image: 'app:1' },
            { name: 'server', image: 'app:1' },
          ],
        },
      },
      (p) =>
        (p.status?.containerStatuses?.find((c) => c.name === 'crasher')?.restartCount ?? 0) > 0,
    );

    const plan = await dryRun(pod);

    expect(plan.kept_containers).toEqual(['crasher', 'finisher', 'server']);
  });
});

describe('refusals before anything is touched', () => {
  it('refuses a cordoned target', async () => {
    const pod = await h.podOn('worker-1', { prefix: 'cordon' });
    await withTargetChanged({ unschedulable: true }, async () => {
      const problem = await h.refused({
        pod_name: pod.metadata?.name,
        source_node: 'worker-1',
        target_node: 'worker-3',
      });
      expect(problem).toMatchObject({ status: 422, code: 'target-node-cordoned' });
    });
  });

  it('refuses a target whose taint the pod does not tolerate, and accepts it when tolerated', async () => {
    const taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const plain = await h.podOn('worker-1', { prefix: 'taint' });
    const tolerant = await h.podOn('worker-1', {
      prefix: 'tolerant',
      spec: {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
      },
    });

    await withTargetChanged({ taints: [taint] }, async () => {
      const problem = await h.refused({
        pod_name: plain.metadata?.name,
        source_node: 'worker-1',
        target_node: 'worker-3',
      });
      expect(problem).toMatchObject({ status: 422, code: 'target-taint-not-tolerated' });
      expect(problem.detail).toContain('dedicated=gpu:NoSchedule');

      expect((await dryRun(tolerant, 'worker-3')).target_node).toBe('worker-3');
    });
  });

  it('refuses a target without room for the pod', async () => {
    await h.podOn('worker-2', {
      prefix: 'filler',
      spec: { containers: [{ name: 'app', image: 'app:1', resources: requests('5', '1Gi') }] },
    });
    const big = await h.podOn('worker-1', {
      prefix: 'big',
      spec: { containers: [{ name: 'app', image: 'app:1', resources: requests('5', '1Gi') }] },
    });

    const problem = await h.refused({
      pod_name: big.metadata?.name,
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    expect(problem).toMatchObject({ status: 422, code: 'insufficient-capacity' });
  });

  it('refuses a pod that is already terminating', async () => {
    const pod = await h.podOn('worker-1', { prefix: 'leaving' });
    const name = pod.metadata?.name ?? '';
    await h.core.patchNamespacedPod(
      {
        name,
        namespace: h.namespace.name,
        body: { metadata: { finalizers: ['aso.dev/test-hold'] } },
      },
      mergePatch,
    );
    await h.core.deleteNamespacedPod({ name, namespace: h.namespace.name });

    try {
      const problem = await h.refused({
        pod_name: name,
        source_node: 'worker-1',
        target_node: 'worker-2',
      });
      expect(problem).toMatchObject({ status: 409, code: 'pod-terminating' });
    } finally {
      await h.core.patchNamespacedPod(
        { name, namespace: h.namespace.name, body: { metadata: { finalizers: null } } },
        mergePatch,
      );
    }
  });

  it('refuses a volume that cannot follow the pod', async () => {
    const pod = await h.podOn('worker-1', {
      prefix: 'hostpath',
      spec: {
        volumes: [{ name: 'data', hostPath: { path: '/var/lib/aso-test-data' } }],
        containers: [
          { name: 'app', image: 'app:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        ],
      },
    });

    const problem = await h.refused({
      pod_name: pod.metadata?.name,
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    expect(problem).toMatchObject({ status: 422, code: 'volume-cannot-follow' });
    expect(problem.detail).toContain('hostPath');
  });

  it('refuses a second migration of a pod while one is in progress, naming it', async () => {
    const pod = await h.podOn('worker-1', {
      prefix: 'busy',
      annotations: { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' },
    });
    const request = {
      pod_name: pod.metadata?.name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      timeout: 30,
    };

    const first = await h.submit(request);
    const problem = await h.refused(request);

    expect(problem).toMatchObject({
      status: 409,
      code: 'migration-in-progress',
      migration_id: first.migration_id,
    });
    await h.finished(first.migration_id, 60_000);
  });
});

describe('controller-owned pods that cannot move', () => {
  async function ownedPod(selector: string): Promise<V1Pod> {
    return eventually(
      async () => {
        const pods = await h.core.listNamespacedPod({
          namespace: h.namespace.name,
          labelSelector: selector,
        });
        return pods.items.find((p) => p.spec?.nodeName && isRunning(p));
      },
      { what: `a running pod for ${selector}`, timeoutMs: 60_000 },
    );
  }

  async function refusal(pod: V1Pod) {
    const source = pod.spec?.nodeName ?? '';
    const target = source === 'worker-1' ? 'worker-2' : 'worker-1';
    return h.refused({ pod_name: pod.metadata?.name, source_node: source, target_node: target });
  }

  const template = (app: string) => ({
    metadata: { labels: { app } },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  });

  it('refuses the pods of a StatefulSet, a DaemonSet and a Job, explaining why', async () => {
    const suffix = randomUUID().slice(0, 6);
    const namespace = h.namespace.name;
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: `sts-${suffix}` },
        spec: {
          serviceName: 'sts',
          replicas: 1,
          selector: { matchLabels: { app: `sts-${suffix}` } },
          template: template(`sts-${suffix}`),
        },
      },
    });
    await apps.createNamespacedDaemonSet({
      namespace,
      body: {
        metadata: { name: `ds-${suffix}` },
        spec: {
          selector: { matchLabels: { app: `ds-${suffix}` } },
          template: template(`ds-${suffix}`),
        },
      },
    });
    await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: `job-${suffix}` },
        spec: {
          template: {
            ...template(`job-${suffix}`),
            spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'app:1' }] },
          },
        },
      },
    });

    for (const kind of ['sts', 'ds', 'job']) {
      const problem = await refusal(await ownedPod(`app=${kind}-${suffix}`));
      expect(problem, kind).toMatchObject({ status: 422, code: 'unsupported-controller' });
    }
  });
});
