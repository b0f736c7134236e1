import type { V1Node, V1Pod } from '@kubernetes/client-node';

import { isNotFound, kubernetesError, type KubeClients } from '../kube.ts';

/**
 * The node reads both the pre-flight and the policy target choice make. A missing node
 * is null rather than an error, since each caller refuses it in its own terms.
 */
export async function readNodeOrNull(kube: KubeClients, name: string): Promise<V1Node | null> {
  try {
    return await kube.core.readNode({ name });
  } catch (error) {
    if (isNotFound(error)) return null;
    throw kubernetesError(error, `reading node ${name}`);
  }
}

/** Every pod bound to the node, in all namespaces: what already takes its room. */
export async function listPodsOnNode(kube: KubeClients, node: string): Promise<V1Pod[]> {
  try {
    const list = await kube.core.listPodForAllNamespaces({
      fieldSelector: `spec.nodeName=${node}`,
    });
    return list.items;
  } catch (error) {
    throw kubernetesError(error, `listing the pods on node ${node}`);
  }
}
