import type { StorageV1Api, V1StorageClass } from '@kubernetes/client-node';
import { ignoreAlreadyExists } from './api-errors.ts';

/** The provisioner name the simulator answers to, like an external CSI provisioner would. */
export const SIMULATED_PROVISIONER = 'sim.aso.dev/local';

/**
 * The CSI driver named in the volumes the simulator provisions. Volumes are network
 * disks as far as the cluster can tell: a CSI source with no host path, so that the
 * product sees what it sees on a cloud cluster. No attachment is required, since no
 * kubelet here would ever mount anything.
 */
export const SIMULATED_CSI_DRIVER = 'disk.sim.aso.dev';

export const DEFAULT_STORAGE_CLASS = 'standard';
export const WAIT_FOR_CONSUMER_STORAGE_CLASS = 'standard-wffc';

function storageClass(
  name: string,
  bindingMode: 'Immediate' | 'WaitForFirstConsumer',
  isDefault: boolean,
): V1StorageClass {
  const annotations: Record<string, string> = isDefault
    ? { 'storageclass.kubernetes.io/is-default-class': 'true' }
    : {};
  return {
    metadata: { name, annotations },
    provisioner: SIMULATED_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: bindingMode,
    allowVolumeExpansion: true,
  };
}

/**
 * `standard` behaves like network storage (usable from any node, bound as soon as the
 * claim exists); `standard-wffc` like local storage, provisioned on the node the scheduler
 * picks (https://kubernetes.io/docs/concepts/storage/storage-classes/#volume-binding-mode).
 */
export async function ensureStorageClasses(storage: StorageV1Api): Promise<void> {
  const classes = [
    storageClass(DEFAULT_STORAGE_CLASS, 'Immediate', true),
    storageClass(WAIT_FOR_CONSUMER_STORAGE_CLASS, 'WaitForFirstConsumer', false),
  ];

  for (const body of classes) {
    await ignoreAlreadyExists(() => storage.createStorageClass({ body }));
  }
  await ignoreAlreadyExists(() =>
    storage.createCSIDriver({
      body: {
        metadata: { name: SIMULATED_CSI_DRIVER },
        spec: {
          attachRequired: false,
          podInfoOnMount: false,
          volumeLifecycleModes: ['Persistent'],
        },
      },
    }),
  );
}
