import type {
  V1Container,
  V1Node,
  V1ObjectMeta,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
  V1Volume,
} from '@kubernetes/client-node';

/**
 * Builders of realistic objects for the pre-flight unit tests, shaped as the API
 * server returns them (requests defaulted, conditions and allocatable reported).
 */
type Quantities = Record<string, string>;

export function container(
  name: string,
  requests?: Quantities,
  limits?: Quantities,
  restartPolicy?: string,
): V1Container {
  return {
    name,
    image: 'busybox:1.36',
    ...(requests || limits
      ? { resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } }
      : {}),
    ...(restartPolicy ? { restartPolicy } : {}),
  };
}

export function pod(
  name: string,
  spec: Partial<V1PodSpec> = {},
  metadata: Partial<V1ObjectMeta> = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...metadata },
    spec: { nodeName: 'worker-1', containers: [container('main')], ...spec },
    status: { phase: 'Running' },
  };
}

export interface NodeOptions {
  ready?: 'True' | 'False' | 'Unknown' | null;
  unschedulable?: boolean;
  taints?: { key: string; value?: string; effect: string }[];
  labels?: Record<string, string>;
  allocatable?: Quantities;
}

export function node(name: string, options: NodeOptions = {}): V1Node {
  const ready = options.ready === undefined ? 'True' : options.ready;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: options.labels ?? {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': 'eu-west-1a',
      },
    },
    spec: {
      ...(options.unschedulable ? { unschedulable: true } : {}),
      ...(options.taints ? { taints: options.taints } : {}),
    },
    status: {
      allocatable: options.allocatable ?? { cpu: '4', memory: '8Gi', pods: '110' },
      conditions:
        ready === null
          ? []
          : [
              { type: 'MemoryPressure', status: 'False' },
              {
                type: 'Ready',
                status: ready,
                reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady',
                message:
                  ready === 'True'
                    ? 'kubelet is posting ready status'
                    : 'container runtime network not ready',
              },
            ],
    },
  };
}

export function claim(
  name: string,
  accessModes: string[],
  volumeName?: string,
  namespace = 'default',
): V1PersistentVolumeClaim {
  return {
    metadata: { name, namespace },
    spec: {
      accessModes,
      resources: { requests: { storage: '10Gi' } },
      storageClassName: 'standard',
      ...(volumeName ? { volumeName } : {}),
    },
    status: volumeName ? { phase: 'Bound', accessModes } : { phase: 'Pending' },
  };
}

export function persistentVolume(
  name: string,
  accessModes: string[],
  source: Partial<NonNullable<V1PersistentVolume['spec']>> = {
    csi: { driver: 'ebs.csi.aws.com', volumeHandle: `vol-${name}` },
  },
): V1PersistentVolume {
  return {
    metadata: { name },
    spec: { accessModes, capacity: { storage: '10Gi' }, ...source },
    status: { phase: 'Bound' },
  };
}

/** A volume of the pod mounting `claimName`. */
export function claimVolume(name: string, claimName: string): V1Volume {
  return { name, persistentVolumeClaim: { claimName } };
}
