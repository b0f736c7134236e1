import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';

import { kubernetesError } from '@aso/shared';

import { ReplicaSetHandoffError } from './errors.ts';
import { selectorQuery } from './label-selector.ts';
import { watchPodSetUntil } from './pod-set-watch.ts';
import type { SwitchContext } from './switch-context.ts';

export interface HandoffPods {
  original: V1Pod;
  /** The new pod, now with the selector's labels. */
  joined: V1Pod;
  /** The ReplicaSet's other live pods before the new one joined. */
  others: V1Pod[];
}

/** The ReplicaSet's other live pods: when it scales down, it might pick one of them. */
export async function otherReplicas(
  context: SwitchContext,
  replicaSet: V1ReplicaSet,
  skip: V1Pod[],
): Promise<V1Pod[]> {
  const namespace = context.stage.record.request.pod_namespace;
  const labelSelector = selectorQuery(replicaSet.spec?.selector ?? {});
  const skipped = new Set(skip.map((pod) => pod.metadata?.uid));

  try {
    const list = await context.kube.core.listNamespacedPod({ namespace, labelSelector });
    return list.items.filter(
      (pod) =>
        !skipped.has(pod.metadata?.uid) &&
        !pod.metadata?.deletionTimestamp &&
        ownedBy(pod, replicaSet),
    );
  } catch (error) {
    const name = replicaSet.metadata?.name ?? '';
    throw kubernetesError(error, `listing the pods of ReplicaSet ${name}`);
  }
}

function ownedBy(pod: V1Pod, replicaSet: V1ReplicaSet): boolean {
  return (pod.metadata?.ownerReferences ?? []).some(
    (reference) => reference.controller && reference.uid === replicaSet.metadata?.uid,
  );
}

/**
 * Watches the ReplicaSet's pods until it removes one: null when it is the original,
 * otherwise the name of the replica it removed instead. The new pod's removal fails
 * the migration. The switch has begun by now, so the ReplicaSet gets at least the
 * removal slack even past the deadline.
 */
export function awaitReplicaSetChoice(
  context: SwitchContext,
  replicaSet: V1ReplicaSet,
  pods: HandoffPods,
): Promise<string | null> {
  const rsName = replicaSet.metadata?.name ?? '';
  const timeoutMs = Math.max(context.stage.remainingMs(), context.settings.removalSlackMs);
  const uid = (pod: V1Pod) => pod.metadata?.uid ?? '';

  return watchPodSetUntil(
    context.kube,
    context.stage.record.request.pod_namespace,
    selectorQuery(replicaSet.spec?.selector ?? {}),
    (current) => {
      const live = new Map(current.map((pod) => [uid(pod), pod]));
      const leaving = (pod: V1Pod) => {
        const seen = live.get(uid(pod));
        return !seen || Boolean(seen.metadata?.deletionTimestamp);
      };

      if (leaving(pods.original)) return { done: null };
      if (leaving(pods.joined)) {
        const name = pods.joined.metadata?.name ?? '';
        const why = `ReplicaSet ${rsName} removed the new pod ${name} instead of the original`;
        return { fail: new ReplicaSetHandoffError(why) };
      }
      const other = pods.others.find(leaving);
      return other ? { done: other.metadata?.name ?? '' } : null;
    },
    timeoutMs,
    () =>
      new ReplicaSetHandoffError(
        `ReplicaSet ${rsName} removed none of its pods within ${Math.round(timeoutMs / 1000)} s ` +
          'of adopting the new pod; is its controller running?',
      ),
  );
}
