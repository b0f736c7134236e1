import { randomBytes } from 'node:crypto';

import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

/** Label on every pod of one bench workload; the new pods copy it. */
export const BENCH_WORKLOAD_LABEL = 'bench.aso.dev/workload';

export interface SamplePodOptions {
  name: string;
  namespace: string;
  node: string;
  /** Seconds the data loader runs before it exits 0 (examples/tf-train-0.yaml: 2). */
  loaderSeconds?: number;
  /** Divides every request, so that many pods fit on the three simulated nodes. Default 1. */
  requestDivisor?: number;
}

/**
 * The sample AI training pod of examples/tf-train-0.yaml: a data loader that exits 0
 * after a known time while the trainer and its monitor keep running, restartPolicy
 * Never. Its requests may be scaled down for the measures that run many at once.
 */
export function samplePod(options: SamplePodOptions): V1Pod {
  const divisor = options.requestDivisor ?? 1;
  const requests = (cpuMillis: number, memoryMi: number) => ({
    requests: {
      cpu: `${Math.max(1, Math.round(cpuMillis / divisor))}m`,
      memory: `${Math.max(1, Math.round(memoryMi / divisor))}Mi`,
    },
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: { app: 'tf-train', [BENCH_WORKLOAD_LABEL]: options.name },
      annotations: {
        'sim.aso.dev/exit': `data-loader=0@${options.loaderSeconds ?? 2}`,
        'sim.aso.dev/usage': 'trainer=900m/1536Mi,model-monitor=20m/64Mi',
      },
    },
    spec: {
      restartPolicy: 'Never',
      // The simulator caps graceful deletion at 2 s; the default 30 s would be capped alike.
      nodeSelector: { 'kubernetes.io/hostname': options.node },
      containers: [
        {
          name: 'data-loader',
          image: 'busybox:1.36',
          command: ['sh', '-c', 'prepare-dataset --out /data'],
          resources: requests(500, 512),
        },
        {
          name: 'trainer',
          image: 'tensorflow/tensorflow:2.15.0',
          command: ['python', '/app/train.py', '--checkpoint-dir', '/migration-checkpoint'],
          resources: requests(1000, 2048),
        },
        {
          name: 'model-monitor',
          image: 'prom/prometheus:v2.53.0',
          resources: requests(100, 128),
        },
      ],
    },
  };
}

/** A name no earlier pod of the run had. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/**
 * Whether the pod is where the benchmark starts a migration: its data loader has
 * completed and the trainer runs and is ready. (The pod's own Ready condition is
 * False by then: Kubernetes counts a completed app container as not ready.)
 */
export function loaderDoneTrainerReady(pod: V1Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  const loader = statuses.find((status) => status.name === 'data-loader');
  const trainer = statuses.find((status) => status.name === 'trainer');
  return loader?.state?.terminated?.reason === 'Completed' && trainer?.ready === true;
}

/** Creates the pods and resolves once every one has reached `ready` (polled: setup, not measured). */
export async function createAndAwait(
  kubeConfig: KubeConfig,
  pods: V1Pod[],
  ready: (pod: V1Pod) => boolean = loaderDoneTrainerReady,
  timeoutMs = 120_000,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await Promise.all(
    pods.map((body) =>
      core.createNamespacedPod({ namespace: body.metadata?.namespace ?? '', body }),
    ),
  );

  const deadline = Date.now() + timeoutMs;
  const pending = new Set(pods.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`));
  while (pending.size > 0) {
    if (Date.now() > deadline)
      throw new Error(`pods not ready in time: ${[...pending].join(', ')}`);
    await pause(250);
    for (const key of [...pending]) {
      const [namespace = '', name = ''] = key.split('/');
      const pod = await core.readNamespacedPod({ namespace, name });
      if (ready(pod)) pending.delete(key);
    }
  }
}

/** Deletes every pod of the namespace that bears the bench label (new pods included). */
export async function deleteBenchPods(kubeConfig: KubeConfig, namespace: string): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.deleteCollectionNamespacedPod({
    namespace,
    labelSelector: BENCH_WORKLOAD_LABEL,
    gracePeriodSeconds: 0,
  });
}

/** A namespace of the bench's own, created once. */
export async function createNamespace(kubeConfig: KubeConfig, prefix: string): Promise<string> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = uniqueName(prefix);
  await core.createNamespace({ body: { metadata: { name } } });
  // The admission plugin wants the default ServiceAccount before the first pod.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const accounts = await core.listNamespacedServiceAccount({ namespace: name });
    if (accounts.items.some((account) => account.metadata?.name === 'default')) return name;
    await pause(200);
  }
  throw new Error(`namespace ${name} got no default ServiceAccount`);
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
