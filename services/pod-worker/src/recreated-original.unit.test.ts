import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { buildRecreatedOriginal } from './recreated-original.ts';

function manifest(): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'db-0',
      namespace: 'data',
      labels: { app: 'db' },
      annotations: { 'sim.aso.dev/usage': 'db=100m/64Mi' },
    },
    spec: {
      nodeName: 'worker-1',
      priorityClassName: 'high',
      priority: 1000,
      nodeSelector: { 'kubernetes.io/hostname': 'worker-1' },
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      ],
      containers: [
        { name: 'loader', image: 'loader' },
        {
          name: 'db',
          image: 'postgres',
          volumeMounts: [
            { name: 'data', mountPath: '/var/lib/db' },
            { name: 'kube-api-access-abcde', mountPath: '/var/run/secrets' },
          ],
        },
      ],
      volumes: [
        { name: 'data', persistentVolumeClaim: { claimName: 'db-data' } },
        {
          name: 'kube-api-access-abcde',
          projected: { sources: [{ serviceAccountToken: { path: 'token' } }] },
        },
      ],
    },
  };
}

describe('the original re-created by a rollback', () => {
  const pod = buildRecreatedOriginal(manifest(), {
    migrationId: 'm-1',
    sourceHostname: 'worker-1',
  });

  it('keeps its name, labels, containers and claims, and says which migration made it', () => {
    expect(pod.metadata).toEqual({
      name: 'db-0',
      namespace: 'data',
      labels: { app: 'db' },
      annotations: {
        'sim.aso.dev/usage': 'db=100m/64Mi',
        'aso.dev/recreated-by-migration': 'm-1',
      },
    });
    expect(pod.spec?.containers.map((c) => c.name)).toEqual(['loader', 'db']);
    expect(pod.spec?.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'db-data' } },
    ]);
  });

  it('goes back to the source through the scheduler, tolerating only a cordon more', () => {
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec?.priority).toBeUndefined();
    expect(pod.spec?.nodeSelector).toEqual({});
    expect(
      pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    ).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1'] },
          ],
        },
      ],
    });
    expect(pod.spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ]);
  });

  it('leaves the captured manifest as it was', () => {
    expect(manifest().spec?.nodeName).toBe('worker-1');
    const source = manifest();
    buildRecreatedOriginal(source, { migrationId: 'm-1', sourceHostname: 'worker-1' });
    expect(source).toEqual(manifest());
  });
});
