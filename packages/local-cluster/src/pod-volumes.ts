import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';

/**
 * The claims a pod mounts: named ones, and the ones generic ephemeral volumes create,
 * named <pod>-<volume> (https://kubernetes.io/docs/concepts/storage/ephemeral-volumes/#persistentvolumeclaim-naming).
 */
export function claimNamesOf(pod: V1Pod): string[] {
  const podName = pod.metadata?.name ?? '';

  return (pod.spec?.volumes ?? []).flatMap((volume) => {
    if (volume.persistentVolumeClaim !== undefined) {
      return [volume.persistentVolumeClaim.claimName];
    }

    return volume.ephemeral === undefined ? [] : [`${podName}-${volume.name}`];
  });
}

/** The kubelet cannot mount a claim that is not Bound, so the pod stays in ContainerCreating. */
export function unboundClaims(
  pod: V1Pod,
  lookup: (key: string) => V1PersistentVolumeClaim | undefined,
): string[] {
  const namespace = pod.metadata?.namespace ?? '';

  return claimNamesOf(pod).filter(
    (name) => lookup(`${namespace}/${name}`)?.status?.phase !== 'Bound',
  );
}
