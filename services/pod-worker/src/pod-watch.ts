import type { V1Pod } from '@kubernetes/client-node';

import { kubernetesError, type KubeClients } from '@aso/shared';

/** What a judge makes of the pod's latest state (null: the pod is gone). */
export type Verdict<T> = { done: T } | { fail: Error } | null;
export type Judge<T> = (pod: V1Pod | null) => Verdict<T>;

/**
 * Server-side watch timeout. client-node aborts a watch after 30 s without data,
 * so we ask the server to end it first and then resume from the last version.
 */
const WATCH_TIMEOUT_SECONDS = 25;

/** Pause before reading again after the API server failed to answer. */
export const RETRY_DELAY_MS = 1_000;

/**
 * Follows one pod with a watch until the judge reaches a verdict or the time runs
 * out. Each round lists the pod (by name), then watches from the list's
 * resourceVersion, so a watch that ends, expires (410 Gone) or loses the API
 * server resumes without missing a change.
 */
export async function watchPodUntil<T>(
  kube: KubeClients,
  namespace: string,
  name: string,
  judge: Judge<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;

  while (Date.now() < deadline) {
    const listed = await listPodByName(kube, namespace, name);
    if (listed === undefined) {
      await pause(Math.min(RETRY_DELAY_MS, deadline - Date.now()));
      continue;
    }

    const verdict = judge(listed.pod);
    if (verdict) return settle(verdict);

    const resourceVersion = listed.resourceVersion;
    const watchStarted = Date.now();
    const watched = await watchOnce(kube, namespace, name, resourceVersion, judge, deadline);
    if (watched) return settle(watched);

    // A watch refused at once must not turn into a busy loop of reads.
    if (Date.now() - watchStarted < RETRY_DELAY_MS) {
      await pause(Math.min(RETRY_DELAY_MS, deadline - Date.now()));
    }
  }
  throw onTimeout();
}

export function settle<T>(verdict: NonNullable<Verdict<T>>): T {
  if ('fail' in verdict) throw verdict.fail;
  return verdict.done;
}

/**
 * The pod (null when it does not exist) and the list's resourceVersion to watch
 * from; undefined when the API server did not answer. The list's version, unlike
 * the pod's own, is recent even when the pod has not changed for long: after an
 * API server restart its watch cache refuses older versions with 410 Gone.
 */
async function listPodByName(
  kube: KubeClients,
  namespace: string,
  name: string,
): Promise<{ pod: V1Pod | null; resourceVersion: string | undefined } | undefined> {
  try {
    const list = await kube.core.listNamespacedPod({
      namespace,
      fieldSelector: `metadata.name=${name}`,
    });
    return { pod: list.items[0] ?? null, resourceVersion: list.metadata?.resourceVersion };
  } catch (error) {
    const mapped = kubernetesError(error, `reading pod ${namespace}/${name}`);
    if (mapped.permanent) throw mapped;
    return undefined;
  }
}

function watchOnce<T>(
  kube: KubeClients,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  judge: Judge<T>,
  deadline: number,
): Promise<Verdict<T>> {
  return watchPodEvents(
    kube,
    namespace,
    { fieldSelector: `metadata.name=${name}`, resourceVersion },
    (type, pod) => judge(type === 'DELETED' ? null : pod),
    deadline,
  );
}

export interface PodWatchQuery {
  fieldSelector?: string;
  labelSelector?: string;
  resourceVersion: string | undefined;
}

/**
 * One round of a watch on the namespace's pods: hands every event to `onEvent` until
 * it reaches a verdict (returned), or the watch ends, fails or reaches the deadline
 * (null: the caller reads again and resumes).
 */
export function watchPodEvents<T>(
  kube: KubeClients,
  namespace: string,
  query: PodWatchQuery,
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod) => Verdict<T>,
  deadline: number,
): Promise<Verdict<T>> {
  const remainingSeconds = Math.ceil((deadline - Date.now()) / 1000);

  return new Promise((resolve) => {
    let controller: AbortController | undefined;
    let finished = false;
    const finish = (verdict: Verdict<T>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      controller?.abort();
      resolve(verdict);
    };
    const timer = setTimeout(
      () => {
        finish(null);
      },
      Math.max(0, deadline - Date.now()),
    );

    const handle = (type: string, object: unknown) => {
      if (type === 'ERROR') {
        finish(null); // Typically 410 Gone: read again and resume from a fresh version.
        return;
      }
      if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
      const verdict = onEvent(type, object as V1Pod);
      if (verdict) finish(verdict);
    };

    kube.watch
      .watch(
        `/api/v1/namespaces/${namespace}/pods`,
        {
          ...query,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.min(WATCH_TIMEOUT_SECONDS, Math.max(1, remainingSeconds)),
        },
        handle,
        () => {
          finish(null);
        },
      )
      .then((started) => {
        controller = started;
        if (finished) started.abort();
      })
      .catch(() => {
        finish(null);
      });
  });
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
