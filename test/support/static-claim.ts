import { ApiException, type CoreV1Api, type V1PodSpec } from '@kubernetes/client-node';

import { eventually } from '../setup/kube.ts';

export interface StaticClaimOptions {
  accessModes?: string[];
  labels?: Record<string, string>;
}

/**
 * A claim bound to a PersistentVolume made for it by hand, as an administrator
 * provisions network storage: an NFS export, which any node reaches. The pre-flight
 * refuses the simulator's own volumes, which are hostPath directories of one node.
 * Returns once the claim is Bound; `delete` removes the volume (it outlives the
 * namespace).
 */
export async function staticClaim(
  core: CoreV1Api,
  namespace: string,
  name: string,
  options: StaticClaimOptions = {},
): Promise<{ name: string; delete(): Promise<void> }> {
  const accessModes = options.accessModes ?? ['ReadWriteOnce'];
  const volume = `${namespace}-${name}`;

  await core.createPersistentVolume({
    body: {
      metadata: { name: volume, labels: { 'aso.dev/test': 'true' } },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes,
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        nfs: { server: '10.240.0.250', path: `/exports/${volume}` },
        claimRef: { namespace, name },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
      spec: {
        accessModes,
        storageClassName: '',
        volumeName: volume,
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
  await eventually(
    async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name, namespace });
      return claim.status?.phase === 'Bound';
    },
    { what: `claim ${namespace}/${name} to be Bound`, timeoutMs: 30_000 },
  );

  return {
    name,
    delete: async () => {
      await core.deletePersistentVolume({ name: volume }).catch((error: unknown) => {
        if (!(error instanceof ApiException && error.code === 404)) throw error;
      });
    },
  };
}

/** A pod spec whose one container mounts the claim at /data; a short grace keeps deletes quick. */
export function claimPodSpec(claimName: string): V1PodSpec {
  return {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'app',
        image: 'nginx:1.27',
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ],
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
  };
}

/** The reasons of the Events recorded on pods of this name, oldest first. */
export async function podEventReasons(
  core: CoreV1Api,
  namespace: string,
  podName: string,
): Promise<string[]> {
  const events = await core.listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${podName}`,
  });
  return events.items
    .filter((event) => event.source?.component === 'ai-storage-orchestrator')
    .sort((a, b) => Date.parse(String(a.firstTimestamp)) - Date.parse(String(b.firstTimestamp)))
    .map((event) => event.reason ?? '');
}
