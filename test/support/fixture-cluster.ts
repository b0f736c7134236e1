import type { V1Node, V1Pod } from '@kubernetes/client-node';

import type { ClusterView } from '../../services/api/src/batches/cluster-view.ts';
import {
  matchesLabels,
  parseLabelSelector,
} from '../../services/api/src/batches/label-selector.ts';
import { container, node, pod } from '../../packages/shared/src/preflight/test-fixtures.ts';

/**
 * An in-memory cluster for the gateway's in-process tests of batches and drains:
 * nodes and pods the test puts there, selectors matched as the API server does,
 * and cordons recorded on the nodes.
 */
export interface FixtureCluster extends ClusterView {
  nodes: V1Node[];
  pods: V1Pod[];
  /** Adds a pod bound to `nodeName` with `labels`, requesting 100m CPU and 128Mi. */
  addPod(
    name: string,
    nodeName: string,
    labels?: Record<string, string>,
    namespace?: string,
  ): V1Pod;
}

export function fixtureCluster(): FixtureCluster {
  const cluster: FixtureCluster = {
    nodes: ['worker-1', 'worker-2', 'worker-3'].map((name) => node(name)),
    pods: [],

    addPod(name, nodeName, labels = {}, namespace = 'default') {
      const added = pod(
        name,
        { nodeName, containers: [container('main', { cpu: '100m', memory: '128Mi' })] },
        { namespace, labels },
      );
      cluster.pods.push(added);
      return added;
    },
    listPods(namespace, labelSelector) {
      const requirements = parseLabelSelector(labelSelector);
      return Promise.resolve(
        cluster.pods.filter(
          (p) =>
            p.metadata?.namespace === namespace && matchesLabels(requirements, p.metadata.labels),
        ),
      );
    },
    readPod(namespace, name) {
      const found = cluster.pods.find(
        (p) => p.metadata?.namespace === namespace && p.metadata.name === name,
      );
      return Promise.resolve(found ?? null);
    },
    listPodsOnNode(nodeName) {
      return Promise.resolve(cluster.pods.filter((p) => p.spec?.nodeName === nodeName));
    },
    listAllPods() {
      return Promise.resolve([...cluster.pods]);
    },
    listNodes() {
      return Promise.resolve([...cluster.nodes]);
    },
    readNode(name) {
      return Promise.resolve(cluster.nodes.find((n) => n.metadata?.name === name) ?? null);
    },
    setUnschedulable(name, unschedulable) {
      const found = cluster.nodes.find((n) => n.metadata?.name === name);
      if (found) found.spec = Object.assign({}, found.spec, { unschedulable });
      return Promise.resolve();
    },
  };
  return cluster;
}
