import { randomBytes } from 'node:crypto';

import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';

import { instrumentKubeConfig, type KubeRequestSample } from '@aso/shared';

import type { BenchRequest } from './product.ts';

const CHECKPOINT_PATH = '/migration-checkpoint';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** A bare client-node migration: the Kubernetes calls alone, in order, no queue or store. */
export interface BareClient {
  migrate(request: BenchRequest): Promise<void>;
  /** Requests made so far, by "verb resource". */
  counts(): Map<string, number>;
}

/**
 * The minimal sequence a make-before-break migration needs, with one client and
 * nothing in between: the baseline of the orchestration overhead (item 1) and the
 * minimum number of Kubernetes requests per migration (item 2).
 *   1. get pods                      the pod as it runs (containers' states, spec)
 *   2. get pods.metrics.k8s.io       its measured usage before
 *   3. create persistentvolumeclaims the checkpoint claim (preserve_pv only)
 *   4. create pods                   the new pod on the target (completed containers dropped)
 *   5. watch pods                    from the create's resourceVersion, until Ready
 *   6. create pods/eviction          the original, PodDisruptionBudgets respected
 *   7. watch pods                    from the last version seen, until the original is gone
 *   8. get pods.metrics.k8s.io       the new pod's usage after
 */
export function bareClient(kubeconfigPath: string): BareClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const counts = new Map<string, number>();
  instrumentKubeConfig(kubeConfig, (sample: KubeRequestSample) => {
    const key = `${sample.verb} ${sample.resource}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const watch = new Watch(kubeConfig);

  const usage = (namespace: string, name: string) =>
    custom
      .getNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace,
        plural: 'pods',
        name,
      })
      .catch(() => null);

  return {
    counts: () => new Map(counts),
    async migrate(request) {
      const namespace = request.pod_namespace;
      const original = await core.readNamespacedPod({ namespace, name: request.pod_name });
      await usage(namespace, request.pod_name);

      const suffix = randomBytes(3).toString('hex');
      let claimName: string | null = null;
      if (request.preserve_pv) {
        claimName = `${request.pod_name}-checkpoint-${suffix}`;
        await core.createNamespacedPersistentVolumeClaim({
          namespace,
          body: {
            metadata: { name: claimName },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        });
      }

      const manifest = newPodOf(
        original,
        `${request.pod_name}-b${suffix}`,
        request.target_node,
        claimName,
      );
      const created = await core.createNamespacedPod({ namespace, body: manifest });
      const name = created.metadata?.name ?? '';
      const readyAt = await watchUntil(
        watch,
        namespace,
        name,
        created.metadata?.resourceVersion,
        (type, pod) => type !== 'DELETED' && isReady(pod),
      );

      await core.createNamespacedPodEviction({
        namespace,
        name: request.pod_name,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: request.pod_name, namespace },
        },
      });
      await watchUntil(watch, namespace, request.pod_name, readyAt, (type) => type === 'DELETED');
      await usage(namespace, name);
    },
  };
}

/** The original's copy for the target: running containers only, placed by the scheduler there. */
function newPodOf(original: V1Pod, name: string, target: string, claimName: string | null): V1Pod {
  const spec = structuredClone(original.spec ?? { containers: [] });
  const finished = new Set(
    (original.status?.containerStatuses ?? [])
      .filter((status) => status.state?.terminated?.exitCode === 0)
      .map((status) => status.name),
  );
  const mount = (container: V1Container): V1Container => {
    if (claimName) {
      container.volumeMounts = [
        ...(container.volumeMounts ?? []),
        { name: 'checkpoint', mountPath: CHECKPOINT_PATH },
      ];
    }
    return container;
  };

  spec.containers = spec.containers.filter((container) => !finished.has(container.name)).map(mount);
  delete spec.nodeName;
  delete spec.nodeSelector;
  spec.affinity = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [target] }] },
        ],
      },
    },
  };
  // The admission plugin injects a fresh token volume; the original's copy would clash.
  spec.volumes = (spec.volumes ?? []).filter(
    (volume) => !volume.name.startsWith('kube-api-access-'),
  );
  for (const container of spec.containers) {
    if (!container.volumeMounts) continue;
    container.volumeMounts = container.volumeMounts.filter(
      (m) => !m.name.startsWith('kube-api-access-'),
    );
  }
  if (claimName) spec.volumes.push({ name: 'checkpoint', persistentVolumeClaim: { claimName } });

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: original.metadata?.namespace ?? 'default',
      ...(original.metadata?.labels ? { labels: original.metadata.labels } : {}),
      ...(original.metadata?.annotations ? { annotations: original.metadata.annotations } : {}),
    },
    spec,
  };
}

export function isReady(pod: V1Pod): boolean {
  return Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

/**
 * Watches one pod by name from `resourceVersion` until `done` holds for an event;
 * resolves with that event's resourceVersion, to resume the next watch from.
 */
function watchUntil(
  watch: Watch,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  done: (type: string, pod: V1Pod) => boolean,
): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      controller?.abort();
      outcome();
    };
    watch
      .watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { fieldSelector: `metadata.name=${name}`, resourceVersion, timeoutSeconds: 60 },
        (type: string, object: V1Pod) => {
          if (done(type, object))
            settle(() => {
              resolve(object.metadata?.resourceVersion);
            });
        },
        (error: unknown) => {
          settle(() => {
            reject(new Error(`watch of ${name} ended first: ${String(error)}`));
          });
        },
      )
      .then((started) => {
        controller = started;
        if (settled) started.abort();
      })
      .catch((error: unknown) => {
        settle(() => {
          reject(error instanceof Error ? error : new Error(String(error)));
        });
      });
  });
}
