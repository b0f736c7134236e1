import { PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';

import { isNotFound, kubernetesError, type KubeClients } from '@aso/shared';

/**
 * What batches and drains read from and do to the cluster beyond a migration's
 * pre-flight: find pods, see every node with its pods (to choose a target), and
 * cordon or uncordon a node. An interface, so that the gateway's in-process tests
 * can stand in a fixture cluster.
 */
export interface ClusterView {
  /** Pods of a namespace matching a label selector in the API's syntax. */
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  readPod(namespace: string, name: string): Promise<V1Pod | null>;
  /** Every pod bound to a node. */
  listPodsOnNode(node: string): Promise<V1Pod[]>;
  /** Every pod of the cluster: the scheduler's view of what each node holds. */
  listAllPods(): Promise<V1Pod[]>;
  listNodes(): Promise<V1Node[]>;
  readNode(name: string): Promise<V1Node | null>;
  /** Sets spec.unschedulable: true cordons, false uncordons. */
  setUnschedulable(node: string, unschedulable: boolean): Promise<void>;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The ClusterView over the Kubernetes API; failures become the shared typed errors. */
export function kubeClusterView(kube: KubeClients): ClusterView {
  return {
    async listPods(namespace, labelSelector) {
      return call(`listing pods in ${namespace} matching ${labelSelector}`, async () => {
        return (await kube.core.listNamespacedPod({ namespace, labelSelector })).items;
      });
    },
    async readPod(namespace, name) {
      return orNull(`reading pod ${namespace}/${name}`, () =>
        kube.core.readNamespacedPod({ namespace, name }),
      );
    },
    async listPodsOnNode(node) {
      return call(`listing the pods on node ${node}`, async () => {
        const fieldSelector = `spec.nodeName=${node}`;
        return (await kube.core.listPodForAllNamespaces({ fieldSelector })).items;
      });
    },
    async listAllPods() {
      return call('listing the pods of the cluster', async () => {
        return (await kube.core.listPodForAllNamespaces({})).items;
      });
    },
    async listNodes() {
      return call('listing the nodes', async () => (await kube.core.listNode({})).items);
    },
    async readNode(name) {
      return orNull(`reading node ${name}`, () => kube.core.readNode({ name }));
    },
    async setUnschedulable(node, unschedulable) {
      await call(`${unschedulable ? 'cordoning' : 'uncordoning'} node ${node}`, () =>
        kube.core.patchNode({ name: node, body: { spec: { unschedulable } } }, mergePatch),
      );
    },
  };
}

async function call<T>(action: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw kubernetesError(error, action);
  }
}

async function orNull<T>(action: string, request: () => Promise<T>): Promise<T | null> {
  try {
    return await request();
  } catch (error) {
    if (isNotFound(error)) return null;
    throw kubernetesError(error, action);
  }
}
