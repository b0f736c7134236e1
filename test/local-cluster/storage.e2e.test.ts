import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestNamespace } from '../setup/kube.ts';
import { createTestNamespace, eventually, loadTestKubeConfig, waitForPod } from '../setup/kube.ts';
import { containerStatus, isReady, podCondition, podManifest } from './fixtures.ts';

let kubeConfig: KubeConfig;
let core: CoreV1Api;
let namespace: TestNamespace;

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  namespace = await createTestNamespace(kubeConfig, 'storage');
});

afterAll(async () => {
  await namespace.delete();
});

function claim(name: string, storageClassName?: string): V1PersistentVolumeClaim {
  const spec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } };
  return {
    metadata: { name },
    spec: storageClassName === undefined ? spec : { ...spec, storageClassName },
  };
}

function withClaim(podName: string, claimName: string, nodeName?: string) {
  const volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
  const containers = [
    { name: 'main', image: 'busybox:1.36', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
  ];
  return podManifest(podName, {
    spec: { volumes, containers, ...(nodeName === undefined ? {} : { nodeName }) },
  });
}

async function boundClaim(name: string): Promise<V1PersistentVolumeClaim> {
  return eventually(
    async () => {
      const current = await core.readNamespacedPersistentVolumeClaim({
        name,
        namespace: namespace.name,
      });
      return current.status?.phase === 'Bound' ? current : undefined;
    },
    { what: `claim ${name} Bound` },
  );
}

describe('storage', () => {
  it('binds a claim through the default class and starts a pod that mounts it', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: claim('data'),
    });
    const bound = await boundClaim('data');
    const volume = await core.readPersistentVolume({ name: bound.spec?.volumeName ?? '' });

    expect(bound.spec?.storageClassName).toBe('standard');
    expect(bound.status?.capacity?.['storage']).toBe('3Gi');
    expect(volume.spec?.claimRef).toMatchObject({
      name: 'data',
      namespace: namespace.name,
      uid: bound.metadata?.uid,
    });
    expect(volume.spec?.persistentVolumeReclaimPolicy).toBe('Delete');
    expect(volume.spec?.nodeAffinity).toBeUndefined();
    expect(volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by']).toBe(
      'sim.aso.dev/local',
    );

    await core.createNamespacedPod({
      namespace: namespace.name,
      body: withClaim('uses-data', 'data'),
    });
    await waitForPod(kubeConfig, namespace.name, 'uses-data', isReady, { what: 'uses-data Ready' });
  });

  it('provisions a WaitForFirstConsumer claim on the node the scheduler picked', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: claim('local', 'standard-wffc'),
    });
    await core.createNamespacedPod({
      namespace: namespace.name,
      body: withClaim('uses-local', 'local'),
    });

    const pod = await waitForPod(kubeConfig, namespace.name, 'uses-local', isReady, {
      what: 'uses-local Ready',
    });
    const bound = await boundClaim('local');
    const volume = await core.readPersistentVolume({ name: bound.spec?.volumeName ?? '' });
    const term = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms[0];

    expect(bound.metadata?.annotations?.['volume.kubernetes.io/selected-node']).toBe(
      pod?.spec?.nodeName,
    );
    expect(term?.matchExpressions?.[0]).toMatchObject({
      key: 'kubernetes.io/hostname',
      values: [pod?.spec?.nodeName],
    });
  });

  it('leaves a pod Pending while its claim cannot bind', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: claim('nowhere', 'no-such-class'),
    });
    await core.createNamespacedPod({
      namespace: namespace.name,
      body: withClaim('unscheduled', 'nowhere'),
    });
    // Bound directly to a node, bypassing the scheduler: the kubelet itself must wait for the claim.
    await core.createNamespacedPod({
      namespace: namespace.name,
      body: withClaim('unmounted', 'nowhere', 'worker-3'),
    });

    const unscheduled = await waitForPod(
      kubeConfig,
      namespace.name,
      'unscheduled',
      (pod) => podCondition(pod, 'PodScheduled')?.reason === 'Unschedulable',
      { what: 'unscheduled marked Unschedulable' },
    );
    const unmounted = await waitForPod(
      kubeConfig,
      namespace.name,
      'unmounted',
      (pod) => pod?.status?.hostIP !== undefined,
      { what: 'unmounted admitted by worker-3' },
    );

    expect(unscheduled?.status?.phase).toBe('Pending');
    expect(podCondition(unscheduled, 'PodScheduled')?.message).toContain(
      'unbound immediate PersistentVolumeClaims',
    );
    expect(unmounted?.status?.phase).toBe('Pending');
    expect(unmounted?.status?.podIP).toBeUndefined();
    expect(containerStatus(unmounted, 'main')?.state?.waiting?.reason).toBe('ContainerCreating');
    expect(podCondition(unmounted, 'PodReadyToStartContainers')?.status).toBe('False');
  });

  it('deletes a released volume of a Delete class', async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: namespace.name,
      body: claim('scratch'),
    });
    const volumeName = (await boundClaim('scratch')).spec?.volumeName ?? '';

    await core.deleteNamespacedPersistentVolumeClaim({
      name: 'scratch',
      namespace: namespace.name,
    });

    await eventually(
      async () =>
        !(await core.listPersistentVolume()).items.some(
          (volume) => volume.metadata?.name === volumeName,
        ),
      { what: `volume ${volumeName} deleted` },
    );
  });
});
