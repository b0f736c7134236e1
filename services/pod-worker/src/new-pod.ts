import type { V1Pod } from '@kubernetes/client-node';

import {
  isConflict,
  isNotFound,
  kubernetesError,
  NewPodNameConflictError,
  type KubeClients,
} from '@aso/shared';

import { LABEL_MIGRATION_ID } from './labels.ts';

/**
 * Creates the new pod, or adopts it when an earlier attempt of the same migration
 * already created it, so a retried stage never makes a second pod.
 */
export async function createOrAdoptPod(
  kube: KubeClients,
  manifest: V1Pod,
  migrationId: string,
): Promise<V1Pod> {
  const namespace = manifest.metadata?.namespace ?? 'default';
  const name = manifest.metadata?.name ?? '';

  try {
    return await kube.core.createNamespacedPod({ namespace, body: manifest });
  } catch (error) {
    if (!isConflict(error)) throw kubernetesError(error, `creating pod ${namespace}/${name}`);
  }

  const existing = await readPod(kube, namespace, name);
  if (existing?.metadata?.labels?.[LABEL_MIGRATION_ID] !== migrationId) {
    throw new NewPodNameConflictError(namespace, name);
  }
  return existing;
}

export async function readPod(
  kube: KubeClients,
  namespace: string,
  name: string,
): Promise<V1Pod | null> {
  try {
    return await kube.core.readNamespacedPod({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw kubernetesError(error, `reading pod ${namespace}/${name}`);
  }
}

/** Deletes a pod gracefully, only if it is still the one we mean (uid precondition). */
export async function deletePod(
  kube: KubeClients,
  namespace: string,
  name: string,
  uid: string,
): Promise<void> {
  try {
    await kube.core.deleteNamespacedPod({ name, namespace, body: { preconditions: { uid } } });
  } catch (error) {
    // Gone already, or replaced by another pod of the same name: not ours to delete.
    if (isNotFound(error) || isConflict(error)) return;
    throw kubernetesError(error, `deleting pod ${namespace}/${name}`);
  }
}
