import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';

import {
  CheckpointClaimConflictError,
  isConflict,
  isNotFound,
  kubernetesError,
  type KubeClients,
} from '@aso/shared';

import { ANNOTATION_CREATED_BY_MIGRATION, LABEL_CHECKPOINT, LABEL_WORKLOAD } from './labels.ts';
import { checkpointClaimName, workloadLabel } from './pod-names.ts';

export interface CheckpointSettings {
  /** Size of a new checkpoint claim, as a quantity. Default 1Gi. */
  size: string;
  /** StorageClass of a new claim; undefined uses the cluster's default class. */
  storageClass: string | undefined;
}

export interface CheckpointClaim {
  name: string;
  /** True when this migration created the claim (so its rollback may remove it). */
  createdByThisMigration: boolean;
}

/**
 * Creates the workload's checkpoint claim, or reuses it: the claim belongs to the
 * workload, so every migration of the same pod (and every retry) mounts the same
 * one instead of leaking a new claim each time.
 */
export async function ensureCheckpointClaim(
  kube: KubeClients,
  namespace: string,
  podName: string,
  migrationId: string,
  settings: CheckpointSettings,
): Promise<CheckpointClaim> {
  const name = checkpointClaimName(podName);

  const existing = await readClaim(kube, namespace, name);
  if (existing) return adopt(existing, podName, migrationId);

  try {
    await kube.core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: claimManifest(name, podName, migrationId, settings),
    });
    return { name, createdByThisMigration: true };
  } catch (error) {
    if (!isConflict(error)) throw kubernetesError(error, `creating claim ${namespace}/${name}`);
  }

  // Another attempt created it between our read and our create.
  const raced = await readClaim(kube, namespace, name);
  if (!raced)
    throw new CheckpointClaimConflictError(`claim ${namespace}/${name} vanished while created`);
  return adopt(raced, podName, migrationId);
}

/** Removes the claim only if this migration created it; a reused claim stays. */
export async function removeCheckpointClaim(
  kube: KubeClients,
  namespace: string,
  name: string,
): Promise<void> {
  try {
    await kube.core.deleteNamespacedPersistentVolumeClaim({ name, namespace });
  } catch (error) {
    if (!isNotFound(error)) throw kubernetesError(error, `deleting claim ${namespace}/${name}`);
  }
}

async function readClaim(
  kube: KubeClients,
  namespace: string,
  name: string,
): Promise<V1PersistentVolumeClaim | null> {
  try {
    return await kube.core.readNamespacedPersistentVolumeClaim({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw kubernetesError(error, `reading claim ${namespace}/${name}`);
  }
}

function adopt(
  claim: V1PersistentVolumeClaim,
  podName: string,
  migrationId: string,
): CheckpointClaim {
  const name = claim.metadata?.name ?? '';
  const labels = claim.metadata?.labels ?? {};

  if (labels[LABEL_CHECKPOINT] !== 'true' || labels[LABEL_WORKLOAD] !== workloadLabel(podName)) {
    throw new CheckpointClaimConflictError(
      `a PersistentVolumeClaim named ${name} exists but is not the checkpoint of this workload; ` +
        'rename or remove it, or migrate without preserve_pv',
    );
  }
  if (claim.metadata?.deletionTimestamp) {
    throw new CheckpointClaimConflictError(
      `checkpoint claim ${name} is being deleted; retry later`,
    );
  }

  const creator = claim.metadata?.annotations?.[ANNOTATION_CREATED_BY_MIGRATION];
  return { name, createdByThisMigration: creator === migrationId };
}

function claimManifest(
  name: string,
  podName: string,
  migrationId: string,
  settings: CheckpointSettings,
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      labels: { [LABEL_CHECKPOINT]: 'true', [LABEL_WORKLOAD]: workloadLabel(podName) },
      annotations: { [ANNOTATION_CREATED_BY_MIGRATION]: migrationId },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: settings.size } },
      ...(settings.storageClass ? { storageClassName: settings.storageClass } : {}),
    },
  };
}
