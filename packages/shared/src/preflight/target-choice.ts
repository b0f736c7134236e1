import type { V1Node, V1NodeSelector, V1Pod } from '@kubernetes/client-node';

import { OrchestratorError } from '../errors.ts';
import { capacityFigures, type CapacityFigures } from './capacity.ts';
import { describeNodeSelector, matchesNodeSelectorTerm } from './node-selector.ts';
import { checkTargetNode, HOSTNAME_LABEL } from './target-node.ts';

/**
 * "Any node that fits": picks a target node for one pod the way an operator would
 * ask the scheduler, for batches, drains and load-triggered policies.
 *
 * A candidate must be another node than the pod's own, Ready, not cordoned, with
 * every NoSchedule/NoExecute taint tolerated (the pre-flight's checkTargetNode),
 * match the pod's spec.nodeSelector and required node affinity, and have room for
 * the pod's scheduling request in its free allocatable CPU, memory and pod slots
 * (capacityFigures). What pins the pod to its current host (a kubernetes.io/hostname
 * nodeSelector or affinity requirement, a metadata.name field) is ignored, since the
 * new pod drops it for the target's hostname (pod-worker's placeOnHost).
 *
 * Among the candidates the one with the most free allocatable left after the pod is
 * placed wins: the mean of the free CPU and free memory fractions, as the
 * scheduler's LeastAllocated scoring ranks nodes; ties go to the node name, so the
 * choice is deterministic.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/
 *
 * The pod's full spec is counted, although a migration may drop completed
 * containers: the choice errs on the side of room. Volumes are not looked at here;
 * the pre-flight that follows the choice refuses a volume that cannot follow.
 */
export interface TargetChoiceInput {
  pod: V1Pod;
  /** Every node of the cluster; the pod's own is never chosen. */
  nodes: V1Node[];
  /**
   * The pods bound to each node, by node name, plus those already placed there by
   * earlier choices of the same batch (see withPlacement). A node missing from the
   * map holds no pods.
   */
  podsByNode: ReadonlyMap<string, V1Pod[]>;
  /** Nodes never to choose besides the pod's own, e.g. the node being drained. */
  exclude?: readonly string[];
}

/** A node left out, and why: a pre-flight code where one applies. */
export interface NodeRejection {
  node: string;
  code: string;
  reason: string;
}

export interface TargetChoice {
  /** The chosen node, or null when none fits. */
  node: string | null;
  /** The chosen node's figures for the pod; null when none fits. */
  capacity: CapacityFigures | null;
  /** Mean free fraction of CPU and memory after placing the pod, 0 to 1; null when none fits. */
  score: number | null;
  /** Every node that was not chosen for a reason other than its score. */
  rejected: NodeRejection[];
}

export function chooseTargetNode(input: TargetChoiceInput): TargetChoice {
  const { pod } = input;
  const excluded = new Set([pod.spec?.nodeName ?? '', ...(input.exclude ?? [])]);
  const rejected: NodeRejection[] = [];
  let best: { node: string; capacity: CapacityFigures; score: number } | null = null;

  for (const node of input.nodes) {
    const name = node.metadata?.name ?? '';
    if (excluded.has(name)) {
      rejected.push({ node: name, code: 'source-node', reason: 'the pod runs there already' });
      continue;
    }

    const rejection = placementRejection(pod, node);
    if (rejection !== null) {
      rejected.push({ node: name, ...rejection });
      continue;
    }

    const capacity = capacityFigures(pod, node, input.podsByNode.get(name) ?? []);
    if (!capacity.fits) {
      rejected.push({ node: name, code: 'insufficient-capacity', reason: shortfall(capacity) });
      continue;
    }

    const score = freeScore(capacity);
    if (best === null || score > best.score || (score === best.score && name < best.node)) {
      best = { node: name, capacity, score };
    }
  }

  return best === null
    ? { node: null, capacity: null, score: null, rejected }
    : { node: best.node, capacity: best.capacity, score: best.score, rejected };
}

/**
 * The pods by node with `pod` bound to `node` as well: the next choice of the same
 * batch then sees the room this one took. The input is left untouched.
 */
export function withPlacement(
  podsByNode: ReadonlyMap<string, V1Pod[]>,
  node: string,
  pod: V1Pod,
): Map<string, V1Pod[]> {
  const placed: V1Pod = Object.assign({}, pod, {
    spec: Object.assign({}, pod.spec, { nodeName: node }),
    status: { phase: 'Pending' },
  });
  const next = new Map(podsByNode);
  next.set(node, [...(podsByNode.get(node) ?? []), placed]);
  return next;
}

/** Groups pods by the node they are bound to; unbound pods are left out. */
export function podsByNodeName(pods: V1Pod[]): Map<string, V1Pod[]> {
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (!node) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  return byNode;
}

/** One line for a refusal: why no node fits, node by node. */
export function describeRejections(rejected: NodeRejection[]): string {
  if (rejected.length === 0) return 'the cluster has no other node';
  return rejected.map((r) => `${r.node}: ${r.reason}`).join('; ');
}

/** The node-level checks the scheduler applies before it looks at resources. */
function placementRejection(pod: V1Pod, node: V1Node): Omit<NodeRejection, 'node'> | null {
  try {
    checkTargetNode(node, pod);
  } catch (error) {
    if (!(error instanceof OrchestratorError)) throw error;
    return { code: error.code, reason: error.message };
  }

  const labels = node.metadata?.labels ?? {};
  const selector = pod.spec?.nodeSelector ?? {};
  const missing = Object.entries(selector).filter(
    ([key, value]) => key !== HOSTNAME_LABEL && labels[key] !== value,
  );
  if (missing.length > 0) {
    const wanted = missing.map(([key, value]) => `${key}=${value}`).join(', ');
    return { code: 'node-selector-mismatch', reason: `lacks the pod's nodeSelector ${wanted}` };
  }

  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !matchesUnpinned(required, node)) {
    return {
      code: 'node-affinity-mismatch',
      reason: `does not match the pod's required node affinity (${describeNodeSelector(required)})`,
    };
  }
  return null;
}

/**
 * The required terms without host pinning, as the new pod gets them: a term left
 * with no requirement only asks for the target's hostname, so it admits any node.
 */
function matchesUnpinned(required: V1NodeSelector, node: V1Node): boolean {
  return required.nodeSelectorTerms.some((term) => {
    const expressions = (term.matchExpressions ?? []).filter((e) => e.key !== HOSTNAME_LABEL);
    const fields = (term.matchFields ?? []).filter((f) => f.key !== 'metadata.name');
    if (expressions.length === 0 && fields.length === 0) return true;
    return matchesNodeSelectorTerm({ matchExpressions: expressions, matchFields: fields }, node);
  });
}

/**
 * What is left free after the pod is placed, as a fraction of allocatable, averaged
 * over CPU and memory. A resource the node reports no allocatable of counts as full.
 */
function freeScore(capacity: CapacityFigures): number {
  const left = (fit: CapacityFigures['cpu']) =>
    fit.allocatable > 0 ? Math.max(fit.free - Math.max(fit.requested, 0), 0) / fit.allocatable : 0;
  return (left(capacity.cpu) + left(capacity.memory)) / 2;
}

function shortfall(capacity: CapacityFigures): string {
  const short = [capacity.cpu, capacity.memory, capacity.pods].filter((fit) => !fit.fits);
  const names = { millicores: 'cpu', bytes: 'memory', pods: 'pods' } as const;
  return `not enough free ${short.map((fit) => names[fit.unit]).join(' and ')} for the pod`;
}
