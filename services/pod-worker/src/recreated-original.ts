import type { V1Pod, V1Toleration } from '@kubernetes/client-node';

import { ANNOTATION_RECREATED_BY_MIGRATION, UNSCHEDULABLE_TAINT } from './labels.ts';
import { placeOnHost, removeServiceAccountToken, stripServerOwnedFields } from './pod-builder.ts';

export interface RecreationPlan {
  migrationId: string;
  /** Value of the source node's kubernetes.io/hostname label. */
  sourceHostname: string;
}

/**
 * The original as the rollback of a break-before-make switch creates it again: the
 * captured manifest, every container included, without what the API server owns,
 * marked with the migration that re-created it (so a second rollback finds it
 * instead of creating another).
 *
 * It goes back to the source through the scheduler, with a required node affinity on
 * the source's hostname, rather than by spec.nodeName. A pod given a nodeName skips
 * the scheduler: if the source's room was taken meanwhile, the kubelet rejects it
 * (OutOfcpu) and it ends Failed for good, whereas a scheduled pod waits until it fits;
 * the scheduler also keeps the guarantees the new pod had, such as a ReadWriteOncePod
 * claim used by one pod only and the volumes' node affinity. It tolerates the cordon
 * taint, so that a source cordoned for maintenance still takes back the pod it ran;
 * other taints still apply.
 * https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename
 */
export function buildRecreatedOriginal(manifest: V1Pod, plan: RecreationPlan): V1Pod {
  const source = manifest.spec;
  if (!source) throw new Error('the captured original has no spec');

  const spec = structuredClone(source);
  stripServerOwnedFields(spec);
  removeServiceAccountToken(spec);
  placeOnHost(spec, plan.sourceHostname);
  spec.tolerations = withCordonToleration(spec.tolerations ?? []);

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: manifest.metadata?.name ?? '',
      namespace: manifest.metadata?.namespace ?? 'default',
      ...(manifest.metadata?.labels ? { labels: { ...manifest.metadata.labels } } : {}),
      annotations: {
        ...manifest.metadata?.annotations,
        [ANNOTATION_RECREATED_BY_MIGRATION]: plan.migrationId,
      },
    },
    spec,
  };
}

function withCordonToleration(tolerations: V1Toleration[]): V1Toleration[] {
  const tolerated = tolerations.some(
    (t) =>
      t.operator === 'Exists' &&
      (t.key ?? '') in { '': true, [UNSCHEDULABLE_TAINT]: true } &&
      (t.effect ?? 'NoSchedule') === 'NoSchedule',
  );
  if (tolerated) return tolerations;
  return [...tolerations, { key: UNSCHEDULABLE_TAINT, operator: 'Exists', effect: 'NoSchedule' }];
}
