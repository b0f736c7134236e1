import type { V1Pod, V1PodList } from '@kubernetes/client-node';

import { kubernetesError, type KubeClients } from '@aso/shared';

import { pause, RETRY_DELAY_MS, settle, watchPodEvents, type Verdict } from './pod-watch.ts';

/** What a judge makes of the pods a label selector matches now. */
export type SetJudge<T> = (pods: V1Pod[]) => Verdict<T>;

/**
 * Follows the pods of a label selector until the judge reaches a verdict or the time
 * runs out. Each round lists the pods, then watches from the list's resourceVersion
 * and keeps the set up to date, so an ended or expired watch resumes without missing
 * a change. A pod whose labels stop matching arrives as DELETED, as in any
 * filtered watch.
 */
export async function watchPodSetUntil<T>(
  kube: KubeClients,
  namespace: string,
  labelSelector: string,
  judge: SetJudge<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;

  while (Date.now() < deadline) {
    const listed = await listPods(kube, namespace, labelSelector);
    if (!listed) {
      await pause(Math.min(RETRY_DELAY_MS, deadline - Date.now()));
      continue;
    }

    const pods = new Map(listed.items.map((pod) => [pod.metadata?.uid ?? '', pod]));
    const verdict = judge([...pods.values()]);
    if (verdict) return settle(verdict);

    const watchStarted = Date.now();
    const query = { labelSelector, resourceVersion: listed.metadata?.resourceVersion };
    const onEvent = (type: string, pod: V1Pod): Verdict<T> => {
      if (type === 'DELETED') pods.delete(pod.metadata?.uid ?? '');
      else pods.set(pod.metadata?.uid ?? '', pod);
      return judge([...pods.values()]);
    };
    const watched = await watchPodEvents(kube, namespace, query, onEvent, deadline);
    if (watched) return settle(watched);

    // A watch refused at once must not turn into a busy loop of lists.
    if (Date.now() - watchStarted < RETRY_DELAY_MS) {
      await pause(Math.min(RETRY_DELAY_MS, deadline - Date.now()));
    }
  }
  throw onTimeout();
}

/** The pods, or undefined when the API server did not answer. */
async function listPods(
  kube: KubeClients,
  namespace: string,
  labelSelector: string,
): Promise<V1PodList | undefined> {
  try {
    return await kube.core.listNamespacedPod({ namespace, labelSelector });
  } catch (error) {
    const mapped = kubernetesError(error, `listing pods ${labelSelector} in ${namespace}`);
    if (mapped.permanent) throw mapped;
    return undefined;
  }
}
