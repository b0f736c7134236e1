import type { CoreV1Api, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Informer } from './informer.ts';
import type { MetricsPublisher } from './metrics-publisher.ts';
import { podIpAllocator } from './pod-ips.ts';
import type { PodIpAllocator } from './pod-ips.ts';
import type { PodWorker, PodWorkerContext } from './pod-worker.ts';
import { startPodWorker } from './pod-worker.ts';
import type { SimulatedNode } from './simulated-nodes.ts';

/**
 * Routes pod and claim changes to one worker per pod bound to a simulated node, the way
 * each kubelet only looks after pods whose spec.nodeName is its own node.
 */
export interface PodLifecycleOptions {
  core: CoreV1Api;
  nodes: readonly SimulatedNode[];
  pods: Informer<V1Pod>;
  claims: Informer<V1PersistentVolumeClaim>;
  metrics: MetricsPublisher;
  timings: PodWorkerContext['timings'];
  logger: Logger;
}

interface NodeRuntime {
  node: SimulatedNode;
  ips: PodIpAllocator;
}

export function startPodLifecycle(options: PodLifecycleOptions): () => void {
  const runtimes = new Map(
    options.nodes.map((node) => [node.name, { node, ips: podIpAllocator(node) }]),
  );
  const workers = new Map<string, PodWorker>();

  const contextFor = (runtime: NodeRuntime): PodWorkerContext => ({
    core: options.core,
    node: runtime.node,
    ips: runtime.ips,
    claim: (key) => options.claims.get(key),
    metrics: options.metrics,
    timings: options.timings,
    logger: options.logger,
  });

  const onPod = (change: 'upsert' | 'delete', pod: V1Pod): void => {
    const uid = pod.metadata?.uid ?? '';
    const runtime = runtimes.get(pod.spec?.nodeName ?? '');
    const worker = workers.get(uid);

    if (change === 'delete' || runtime === undefined) {
      worker?.dispose();
      workers.delete(uid);
    } else if (worker === undefined) {
      workers.set(uid, startPodWorker(pod, contextFor(runtime)));
    } else {
      worker.observe(pod);
    }
  };

  const onClaim = (_change: 'upsert' | 'delete', claim: V1PersistentVolumeClaim): void => {
    const namespace = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    for (const worker of workers.values()) {
      if (worker.waitsForClaim(namespace, name)) {
        worker.poke();
      }
    }
  };

  options.pods.onChange(onPod);
  options.claims.onChange(onClaim);

  return () => {
    for (const worker of workers.values()) {
      worker.dispose();
    }
    workers.clear();
  };
}
