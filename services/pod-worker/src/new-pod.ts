import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';

import {
  isConflict,
  isNotFound,
  kubernetesError,
  NewPodNameConflictError,
  type KubeClients,
} from '@aso/shared';

import { LABEL_MIGRATION_ID } from './labels.ts';

export interface CreatedPod {
  pod: V1Pod;
  /** False when an earlier attempt had created it already. */
  created: boolean;
}

/**
 * Creates the new pod, or adopts it when an earlier attempt of the same migration
 * already created it, so a retried stage never makes a second pod.
 */
export async function createOrAdoptPod(
  kube: KubeClients,
  manifest: V1Pod,
  migrationId: string,
): Promise<CreatedPod> {
  const namespace = manifest.metadata?.namespace ?? 'default';
  const name = manifest.metadata?.name ?? '';

  try {
    return {
      pod: await kube.core.createNamespacedPod({ namespace, body: manifest }),
      created: true,
    };
  } catch (error) {
    if (!isConflict(error)) throw kubernetesError(error, `creating pod ${namespace}/${name}`);
  }

  const existing = await readPod(kube, namespace, name);
  if (existing?.metadata?.labels?.[LABEL_MIGRATION_ID] !== migrationId) {
    throw new NewPodNameConflictError(namespace, name);
  }
  return { pod: existing, created: false };
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

/**
 * Applies a JSON merge patch (RFC 7386: a null value removes the key) to a pod.
 * client-node 2.x sends a patch as JSON Patch unless the Content-Type says otherwise.
 */
export async function mergePatchPod(
  kube: KubeClients,
  namespace: string,
  name: string,
  patch: object,
): Promise<V1Pod> {
  try {
    return await kube.core.patchNamespacedPod(
      { name, namespace, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  } catch (error) {
    throw kubernetesError(error, `patching pod ${namespace}/${name}`);
  }
}
