import type { V1Node, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';

import {
  TargetNodeCordonedError,
  TargetNodeNotReadyError,
  TargetTaintNotToleratedError,
} from '../errors.ts';
import { podRef } from './pod-ref.ts';

/** The well-known label the new pod's required node affinity selects the target by. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Taint effects that keep the scheduler from placing a pod that does not tolerate them. */
const BLOCKING_EFFECTS = new Set(['NoSchedule', 'NoExecute']);

export interface TargetNodeCheck {
  node: string;
  /** Value of the node's kubernetes.io/hostname label, null when the node has none. */
  hostname: string | null;
  warnings: string[];
}

/**
 * Checks that the scheduler could place `pod` on `node`, as far as the node itself
 * decides: it is Ready, not cordoned, and every NoSchedule or NoExecute taint is
 * tolerated. Capacity and volumes are checked separately.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
 *
 * A cordon is refused even when the pod tolerates node.kubernetes.io/unschedulable
 * (which the scheduler would honour): a cordon is an operator asking for no new
 * pods, and a migration is a deliberate placement, not a controller's recovery.
 */
export function checkTargetNode(node: V1Node, pod: V1Pod): TargetNodeCheck {
  const name = node.metadata?.name ?? '';

  checkReady(node, name);
  if (node.spec?.unschedulable) throw new TargetNodeCordonedError(name);
  const warnings = checkTaints(node, pod, name);

  return { node: name, hostname: node.metadata?.labels?.[HOSTNAME_LABEL] ?? null, warnings };
}

/**
 * A node is Ready only while its Ready condition is True; False means the kubelet
 * reports a problem, Unknown (or no condition) that it stopped reporting.
 * See https://kubernetes.io/docs/reference/node/node-status/#condition
 */
function checkReady(node: V1Node, name: string): void {
  const ready = node.status?.conditions?.find((condition) => condition.type === 'Ready');
  if (ready?.status === 'True') return;

  const detail = ready
    ? [`Ready is ${ready.status}`, ready.reason, ready.message].filter(Boolean).join(': ')
    : 'it reports no Ready condition';
  throw new TargetNodeNotReadyError(name, detail);
}

function checkTaints(node: V1Node, pod: V1Pod, name: string): string[] {
  const tolerations = pod.spec?.tolerations ?? [];
  const warnings: string[] = [];

  for (const taint of node.spec?.taints ?? []) {
    const matching = tolerations.filter((toleration) => toleratesTaint(toleration, taint));

    if (BLOCKING_EFFECTS.has(taint.effect) && matching.length === 0) {
      throw new TargetTaintNotToleratedError(podRef(pod), name, describeTaint(taint));
    }
    if (taint.effect === 'PreferNoSchedule' && matching.length === 0) {
      warnings.push(
        `target_node ${name} has the taint ${describeTaint(taint)}, which the pod does not ` +
          'tolerate; the scheduler avoids such nodes but the required node affinity still places it',
      );
    }
    const evictAfter = taint.effect === 'NoExecute' ? evictionDelay(matching) : null;
    if (evictAfter !== null) {
      warnings.push(
        `the pod tolerates the taint ${describeTaint(taint)} on target_node ${name} only for ` +
          `${evictAfter} s; it would be evicted from the target after that`,
      );
    }
  }
  return warnings;
}

/**
 * Whether one toleration matches one taint, by the rules the scheduler applies:
 * an empty effect matches every effect, an empty key with Exists matches every
 * taint, Exists ignores the value, and Equal (the default) compares it.
 * Operators this code does not know tolerate nothing.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#concepts
 */
export function toleratesTaint(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;

  switch (toleration.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      // An empty key is only valid with Exists; Equal must then name the taint's key.
      return Boolean(toleration.key) && (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/**
 * How long a NoExecute taint is tolerated, as the taint eviction controller
 * reads it: the shortest tolerationSeconds among the matching tolerations (zero or
 * less evicts at once), or null when none sets a limit (tolerated for ever).
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions
 */
function evictionDelay(matching: V1Toleration[]): number | null {
  const limits = matching.flatMap((toleration) =>
    toleration.tolerationSeconds === undefined ? [] : [toleration.tolerationSeconds],
  );
  if (limits.length === 0) return null;
  return Math.max(Math.min(...limits), 0);
}

export function describeTaint(taint: V1Taint): string {
  const value = taint.value ? `=${taint.value}` : '';
  return `${taint.key}${value}:${taint.effect}`;
}
