import type {
  V1Affinity,
  V1ContainerStatus,
  V1Pod,
  V1PodCondition,
  V1PodSpec,
} from '@kubernetes/client-node';

/** Small builders and readers shared by the local-cluster e2e tests. */
export interface PodOptions {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  spec?: Partial<V1PodSpec>;
}

export interface ContainerManifest {
  name: string;
  image: string;
  command: string[];
}

export function container(
  name: string,
  image = 'busybox:1.36',
  command = ['sleep', 'infinity'],
): ContainerManifest {
  return { name, image, command };
}

export function podManifest(name: string, options: PodOptions = {}): V1Pod {
  return {
    metadata: {
      name,
      labels: { app: name, ...options.labels },
      annotations: options.annotations ?? {},
    },
    spec: { containers: [container('main')], ...options.spec },
  };
}

/** Pins a pod to one node through required node affinity, leaving the choice to the scheduler. */
export function onNode(node: string): { affinity: V1Affinity } {
  const term = {
    matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }],
  };
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] },
      },
    },
  };
}

export function podCondition(pod: V1Pod | undefined, type: string): V1PodCondition | undefined {
  return pod?.status?.conditions?.find((entry) => entry.type === type);
}

export function isReady(pod: V1Pod | undefined): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

export function containerStatus(
  pod: V1Pod | undefined,
  name: string,
): V1ContainerStatus | undefined {
  const statuses = [
    ...(pod?.status?.initContainerStatuses ?? []),
    ...(pod?.status?.containerStatuses ?? []),
  ];
  return statuses.find((entry) => entry.name === name);
}

export function hasPhase(phase: string): (pod: V1Pod | undefined) => boolean {
  return (pod) => pod?.status?.phase === phase;
}
