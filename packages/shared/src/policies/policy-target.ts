import type { V1Pod } from '@kubernetes/client-node';

import type { KubeClients } from '../kube.ts';
import { listPodsOnNode, readNodeOrNull } from '../preflight/node-reads.ts';
import { chooseTargetNode, withPlacement } from '../preflight/target-choice.ts';

export interface TargetRefusal {
  node: string;
  code: string;
  detail: string;
}

export type PolicyTarget =
  { fits: true; node: string } | { fits: false; refusals: TargetRefusal[] };

/**
 * The first of the policy's target nodes that fits the pod, in the policy's order:
 * each is put alone to the shared chooser (Ready, schedulable, tolerated, selectors,
 * free allocatable). The pod's own node is skipped. The pre-flight that follows
 * still has its say (volumes, controllers).
 *
 * `placed` holds the pods this evaluation already sent to each node: their new pods
 * do not exist yet, but take room all the same.
 */
export async function choosePolicyTarget(
  kube: KubeClients,
  pod: V1Pod,
  targets: readonly string[],
  placed: ReadonlyMap<string, V1Pod[]> = new Map(),
): Promise<PolicyTarget> {
  const refusals: TargetRefusal[] = [];

  for (const name of targets) {
    if (name === pod.spec?.nodeName) continue;
    const node = await readNodeOrNull(kube, name);
    if (node === null) {
      refusals.push({
        node: name,
        code: 'target-node-not-found',
        detail: `target node ${name} does not exist in the cluster`,
      });
      continue;
    }

    const podsOnNode = [...(await listPodsOnNode(kube, name)), ...(placed.get(name) ?? [])];
    const choice = chooseTargetNode({
      pod,
      nodes: [node],
      podsByNode: new Map([[name, podsOnNode]]),
    });
    if (choice.node !== null) return { fits: true, node: choice.node };
    refusals.push(
      ...choice.rejected.map((r) => ({ node: r.node, code: r.code, detail: r.reason })),
    );
  }
  return { fits: false, refusals };
}

/** `placed` with `pod` sent to `node` as well, for the next choice of the evaluation. */
export function withPolicyPlacement(
  placed: ReadonlyMap<string, V1Pod[]>,
  node: string,
  pod: V1Pod,
): Map<string, V1Pod[]> {
  return withPlacement(placed, node, pod);
}
