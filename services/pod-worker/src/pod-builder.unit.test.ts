import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { buildNewPod, type NewPodPlan } from './pod-builder.ts';

function original(): V1Pod {
  return {
    metadata: {
      name: 'tf-train-0',
      namespace: 'ml',
      uid: 'uid-1',
      resourceVersion: '42',
      creationTimestamp: new Date(),
      managedFields: [{ manager: 'kubectl' }],
      labels: { app: 'train' },
      annotations: { 'sim.aso.dev/usage': 'trainer=900m/1536Mi' },
    },
    spec: {
      nodeName: 'worker-1',
      restartPolicy: 'Never',
      priorityClassName: 'batch',
      priority: 1000,
      nodeSelector: { 'kubernetes.io/hostname': 'worker-1', disk: 'ssd' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1'] },
                  { key: 'layer', operator: 'In', values: ['compute'] },
                ],
              },
            ],
          },
        },
      },
      containers: [
        { name: 'data-loader', image: 'loader', volumeMounts: [tokenMount()] },
        {
          name: 'trainer',
          image: 'trainer',
          volumeMounts: [tokenMount(), { name: 'data', mountPath: '/data' }],
        },
      ],
      ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
      volumes: [
        { name: 'data', emptyDir: {} },
        {
          name: 'kube-api-access-x1y2z',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
        },
      ],
    },
    status: { phase: 'Running' },
  };
}

function tokenMount() {
  return {
    name: 'kube-api-access-x1y2z',
    mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
  };
}

const plan: NewPodPlan = {
  name: 'tf-train-0-m3f2a9c',
  migrationId: '3f2a9c1e-0000-4000-8000-000000000000',
  keptContainers: ['trainer'],
  targetHostname: 'worker-2',
  claimName: 'tf-train-0-checkpoint',
  workload: 'tf-train-0',
};

describe('new pod', () => {
  const pod = buildNewPod(original(), plan);

  it('carries only what the API server accepts on create', () => {
    expect(pod.metadata).toEqual({
      name: plan.name,
      namespace: 'ml',
      labels: { app: 'train', 'aso.dev/migration-id': plan.migrationId },
      annotations: {
        'sim.aso.dev/usage': 'trainer=900m/1536Mi',
        'aso.dev/migrated-from': 'tf-train-0',
        'aso.dev/source-node': 'worker-1',
        'aso.dev/workload': 'tf-train-0',
      },
    });
    expect(pod.status).toBeUndefined();
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.ephemeralContainers).toBeUndefined();
    expect(pod.spec?.priority).toBeUndefined();
    expect(pod.spec?.priorityClassName).toBe('batch');
  });

  it('keeps only the containers that still have work', () => {
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(['trainer']);
  });

  it('drops the injected token volume and its mounts', () => {
    expect(pod.spec?.volumes?.map((v) => v.name)).toEqual(['data', 'migration-checkpoint']);
    expect(pod.spec?.containers[0]?.volumeMounts).toEqual([
      { name: 'data', mountPath: '/data' },
      { name: 'migration-checkpoint', mountPath: '/migration-checkpoint' },
    ]);
  });

  it('mounts the checkpoint claim', () => {
    expect(pod.spec?.volumes?.at(-1)).toEqual({
      name: 'migration-checkpoint',
      persistentVolumeClaim: { claimName: 'tf-train-0-checkpoint' },
    });
  });

  it('pins the pod to the target through the scheduler, keeping other constraints', () => {
    expect(pod.spec?.nodeSelector).toEqual({ disk: 'ssd' });
    expect(
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    ).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'layer', operator: 'In', values: ['compute'] },
            { key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-2'] },
          ],
        },
      ],
    });
  });

  it('replaces an earlier checkpoint volume instead of adding a second', () => {
    const again = buildNewPod(pod, { ...plan, name: 'tf-train-0-ma1b2c3' });

    expect(again.spec?.volumes?.filter((v) => v.name === 'migration-checkpoint')).toHaveLength(1);
    expect(
      again.spec?.containers[0]?.volumeMounts?.filter((m) => m.name === 'migration-checkpoint'),
    ).toHaveLength(1);
  });

  it('leaves the original untouched', () => {
    const source = original();
    buildNewPod(source, plan);
    expect(source.spec?.containers).toHaveLength(2);
    expect(source.spec?.nodeName).toBe('worker-1');
  });

  it('works without a claim', () => {
    const plain = buildNewPod(original(), { ...plan, claimName: null });
    expect(plain.spec?.volumes?.map((v) => v.name)).toEqual(['data']);
  });
});
