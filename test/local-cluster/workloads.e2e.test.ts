import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestNamespace } from '../setup/kube.ts';
import { createTestNamespace, eventually, loadTestKubeConfig } from '../setup/kube.ts';
import { container, isReady } from './fixtures.ts';

let kubeConfig: KubeConfig;
let namespace: TestNamespace;

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  namespace = await createTestNamespace(kubeConfig, 'workloads');
});

afterAll(async () => {
  await namespace.delete();
});

describe('workloads through the real controllers', () => {
  it('runs the pods of a ReplicaSet and removes them with it', async () => {
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const labels = { app: 'web' };
    const template = {
      metadata: { labels },
      spec: { containers: [container('web', 'nginx:1.27')] },
    };
    const body = {
      metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: labels }, template },
    };
    const listPods = async () =>
      (await core.listNamespacedPod({ namespace: namespace.name, labelSelector: 'app=web' })).items;

    await apps.createNamespacedReplicaSet({ namespace: namespace.name, body });

    const pods = await eventually(
      async () => {
        const current = await listPods();
        return current.length === 3 && current.every(isReady) ? current : undefined;
      },
      { what: 'three Ready ReplicaSet pods' },
    );
    await eventually(
      async () =>
        (await apps.readNamespacedReplicaSet({ name: 'web', namespace: namespace.name })).status
          ?.readyReplicas === 3,
      { what: 'ReplicaSet readyReplicas 3' },
    );

    expect(pods.every((pod) => pod.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')).toBe(
      true,
    );
    expect(new Set(pods.map((pod) => pod.status?.podIP)).size).toBe(3);

    await apps.deleteNamespacedReplicaSet({ name: 'web', namespace: namespace.name });
    await eventually(async () => (await listPods()).length === 0, {
      what: 'ReplicaSet pods removed',
    });
  });
});
