import type { V1Pod } from '@kubernetes/client-node';

import {
  apiErrorMessage,
  apiStatusCode,
  DisruptionBudgetBlockedError,
  kubernetesError,
  type KubeClients,
  type Logger,
} from '@aso/shared';

import { deletePod } from './new-pod.ts';

export interface RemovalOptions {
  /** Delete instead of evicting: PodDisruptionBudgets are not consulted. */
  force: boolean;
  /** Epoch ms after which a blocked eviction gives up. */
  deadline: number;
  log: Logger;
  /** First pause after a refused eviction, doubled each time up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
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
  for (;;) {
    const outcome = await tryEviction(kube, namespace, name, uid);
    if ('result' in outcome) return outcome.result;

    if (Date.now() + delayMs > options.deadline) {
      throw new DisruptionBudgetBlockedError(
        `a PodDisruptionBudget kept refusing the eviction of ${namespace}/${name} until the ` +
          `migration's deadline (${outcome.message}); retry later, or set force to delete it anyway`,
      );
    }
    options.log.info(
      { retryInMs: delayMs, reason: outcome.message },
      'eviction refused, will retry',
    );
    await pause(delayMs);
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
    // Gone already, or a different pod now bears the name: nothing of ours to evict.
    if (code === 404 || code === 409) return { result: 'gone' };
    if (code === 429) return { blocked: true, message: apiErrorMessage(error) };
    throw kubernetesError(error, `evicting pod ${namespace}/${name}`);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
