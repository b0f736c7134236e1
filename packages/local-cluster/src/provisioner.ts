import type {
  CoreV1Api,
  StorageV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1StorageClass,
  V1VolumeNodeAffinity,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, ignoreAlreadyExists, ignoreNotFound } from './api-errors.ts';
import type { Informer } from './informer.ts';
import { SIMULATED_CSI_DRIVER, SIMULATED_PROVISIONER } from './storage-classes.ts';

/**
 * The external provisioner for `sim.aso.dev/local`, following the contract the PV
 * controller in kube-controller-manager expects
 * (https://kubernetes.io/docs/concepts/storage/dynamic-provisioning/): it annotates a
 * claim with volume.kubernetes.io/storage-provisioner, the provisioner creates a PV
 * pre-bound to the claim, the PV controller binds both; Released PVs with reclaim policy
 * Delete are deleted by the provisioner.
 */
const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
const BETA_STORAGE_PROVISIONER_ANNOTATION = 'volume.beta.kubernetes.io/storage-provisioner';
const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';

export interface ProvisionerOptions {
  resyncMs: number;
  core: CoreV1Api;
  storage: StorageV1Api;
  claims: Informer<V1PersistentVolumeClaim>;
  volumes: Informer<V1PersistentVolume>;
  logger: Logger;
}

function requestedProvisioner(claim: V1PersistentVolumeClaim): string | undefined {
  const annotations = claim.metadata?.annotations ?? {};
  return (
    annotations[STORAGE_PROVISIONER_ANNOTATION] ?? annotations[BETA_STORAGE_PROVISIONER_ANNOTATION]
  );
}

function awaitsProvisioning(claim: V1PersistentVolumeClaim): boolean {
  return (
    claim.status?.phase === 'Pending' &&
    claim.spec?.volumeName === undefined &&
    claim.metadata?.deletionTimestamp === undefined &&
    requestedProvisioner(claim) === SIMULATED_PROVISIONER
  );
}

function nodeAffinity(node: string): { nodeAffinity: V1VolumeNodeAffinity } {
  const term = {
    matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }],
  };
  return { nodeAffinity: { required: { nodeSelectorTerms: [term] } } };
}

export function volumeFor(
  claim: V1PersistentVolumeClaim,
  storageClass: V1StorageClass,
  selectedNode: string | undefined,
): V1PersistentVolume {
  const uid = claim.metadata?.uid ?? '';
  const name = `pvc-${uid}`;
  const storage = claim.spec?.resources?.requests?.['storage'] ?? '1Gi';
  const affinity = selectedNode === undefined ? {} : nodeAffinity(selectedNode);

  return {
    metadata: { name, annotations: { [PROVISIONED_BY_ANNOTATION]: SIMULATED_PROVISIONER } },
    spec: {
      ...affinity,
      capacity: { storage },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: storageClass.metadata?.name ?? '',
      mountOptions: storageClass.mountOptions ?? [],
      csi: { driver: SIMULATED_CSI_DRIVER, volumeHandle: name, fsType: 'ext4' },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata?.namespace ?? '',
        name: claim.metadata?.name ?? '',
        uid,
      },
    },
  };
}

function isReleasedOwnVolume(volume: V1PersistentVolume): boolean {
  return (
    volume.status?.phase === 'Released' &&
    volume.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
    volume.metadata?.annotations?.[PROVISIONED_BY_ANNOTATION] === SIMULATED_PROVISIONER &&
    volume.metadata.deletionTimestamp === undefined
  );
}

/** Returns a function that stops the periodic resync. */
export function startProvisioner(options: ProvisionerOptions): () => void {
  const { core, storage, logger } = options;
  const inFlight = new Set<string>();

  const provision = async (claim: V1PersistentVolumeClaim): Promise<void> => {
    const className = claim.spec?.storageClassName ?? '';
    const storageClass = await storage.readStorageClass({ name: className });
    const selectedNode = claim.metadata?.annotations?.[SELECTED_NODE_ANNOTATION];
    const waitsForConsumer = storageClass.volumeBindingMode === 'WaitForFirstConsumer';

    if (
      storageClass.provisioner !== SIMULATED_PROVISIONER ||
      (waitsForConsumer && selectedNode === undefined)
    ) {
      return;
    }

    const volume = volumeFor(claim, storageClass, waitsForConsumer ? selectedNode : undefined);
    await ignoreAlreadyExists(() => core.createPersistentVolume({ body: volume }));
    logger.info(
      {
        claim: `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`,
        volume: volume.metadata?.name,
      },
      'volume provisioned',
    );
  };

  const once = (key: string, work: () => Promise<void>): void => {
    if (inFlight.has(key)) {
      return;
    }
    inFlight.add(key);
    work()
      .catch((error: unknown) => {
        logger.warn({ key, error: describeError(error) }, 'provisioner action failed');
      })
      .finally(() => {
        inFlight.delete(key);
      });
  };

  const onClaim = (claim: V1PersistentVolumeClaim): void => {
    if (awaitsProvisioning(claim)) {
      once(`claim/${claim.metadata?.uid ?? ''}`, () => provision(claim));
    }
  };

  const onVolume = (volume: V1PersistentVolume): void => {
    const name = volume.metadata?.name ?? '';
    if (isReleasedOwnVolume(volume)) {
      once(`volume/${name}`, () => ignoreNotFound(() => core.deletePersistentVolume({ name })));
    }
  };

  options.claims.onChange((change, claim) => {
    if (change === 'upsert') {
      onClaim(claim);
    }
  });
  options.volumes.onChange((change, volume) => {
    if (change === 'upsert') {
      onVolume(volume);
    }
  });

  // A failed attempt is not retried by any event (nothing changes on the claim), so
  // revisit pending work periodically, as controllers do on their resync period.
  const timer = setInterval(() => {
    options.claims.items().forEach(onClaim);
    options.volumes.items().forEach(onVolume);
  }, options.resyncMs);
  return () => {
    clearInterval(timer);
  };
}
