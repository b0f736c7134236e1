import type { V1Pod } from '@kubernetes/client-node';

import {
  apiErrorMessage,
  apiStatusCode,
  DisruptionBudgetBlockedError,
  kubernetesError,
  type KubeClients,
  type Logger,
} from '@aso/shared';

import { deletePod, readPod } from './new-pod.ts';

export interface RemovalOptions {
  /** Delete instead of evicting: PodDisruptionBudgets are not consulted. */
  force: boolean;
  /** Epoch ms after which a blocked eviction gives up. */
  deadline: number;
  log: Logger;
  /** First pause after a refused eviction, doubled each time up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told of each refusal, with the API server's reason, before the pause. */
  onBlocked?: (reason: string, refusals: number) => Promise<void>;
}

/**
 * Removes the original through the Eviction API, so that PodDisruptionBudgets are
 * respected as for any voluntary disruption. The API server answers 429 while a
 * budget allows no disruption; we try again with back-off until the deadline.
 * https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/
 */
export async function removeOriginalPod(
  kube: KubeClients,
  pod: V1Pod,
  options: RemovalOptions,
): Promise<'evicted' | 'deleted' | 'gone'> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';

  if (options.force) {
    await deletePod(kube, namespace, name, uid);
    return 'deleted';
  }

  let delayMs = options.baseDelayMs ?? 1_000;
  for (let refusals = 1; ; refusals += 1) {
    const outcome = await tryEviction(kube, namespace, name, uid);
    if ('result' in outcome) return outcome.result;

    const leftMs = options.deadline - Date.now();
    if (leftMs <= 0) {
      throw new DisruptionBudgetBlockedError(
        `a PodDisruptionBudget kept refusing the eviction of ${namespace}/${name} until the ` +
          `migration's deadline (${outcome.message}); retry later, or set force to delete it anyway`,
      );
    }
    options.log.info(
      { retryInMs: Math.min(delayMs, leftMs), reason: outcome.message },
      'eviction refused, will retry',
    );
    await options.onBlocked?.(outcome.message, refusals);
    // The last try happens at the deadline itself, so a budget that frees up late still counts.
    await pause(Math.min(delayMs, leftMs));
    delayMs = Math.min(delayMs * 2, options.maxDelayMs ?? 10_000);
  }
}

type EvictionOutcome = { result: 'evicted' | 'gone' } | { blocked: true; message: string };

async function tryEviction(
  kube: KubeClients,
  namespace: string,
  name: string,
  uid: string,
): Promise<EvictionOutcome> {
  try {
    await kube.core.createNamespacedPodEviction({
      name,
      namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
        deleteOptions: { preconditions: { uid } },
      },
    });
    return { result: 'evicted' };
  } catch (error) {
    const code = apiStatusCode(error);
    if (code === 404) return { result: 'gone' };
    if (code === 429) return { blocked: true, message: apiErrorMessage(error) };
    // 409: the uid precondition failed (another pod bears the name now), or the budget
    // was updated concurrently more often than the API server retries.
    if (code === 409 && (await stillThere(kube, namespace, name, uid))) {
      return { blocked: true, message: apiErrorMessage(error) };
    }
    if (code === 409) return { result: 'gone' };
    throw kubernetesError(error, `evicting pod ${namespace}/${name}`);
  }
}

async function stillThere(
  kube: KubeClients,
  namespace: string,
  name: string,
  uid: string,
): Promise<boolean> {
  const pod = await readPod(kube, namespace, name);
  return pod?.metadata?.uid === uid && !pod.metadata.deletionTimestamp;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
