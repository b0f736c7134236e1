import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

import { parseQuantity } from '../quantity.ts';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Only CPU and memory decide the QoS class; other resources are ignored. */
const QOS_RESOURCES = ['cpu', 'memory'] as const;

/**
 * The pod's QoS class, as the kubelet derives it from its containers' resources.
 * See https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
 *
 * Init containers count like app containers. As in Kubernetes, a quantity of zero
 * counts as not set, and a request left out defaults to the limit (the API server
 * fills it in on create, so a spec read back from the cluster already carries it).
 * Pod-level resources (spec.resources) are not considered.
 */
export function qosClass(spec: Pick<V1PodSpec, 'containers' | 'initContainers'>): QosClass {
  const containers = [...(spec.initContainers ?? []), ...spec.containers];

  if (containers.every(setsNoCpuOrMemory)) return 'BestEffort';
  if (containers.every(isGuaranteed)) return 'Guaranteed';
  return 'Burstable';
}

function setsNoCpuOrMemory(container: V1Container): boolean {
  return QOS_RESOURCES.every(
    (resource) =>
      positive(container.resources?.requests?.[resource]) === undefined &&
      positive(container.resources?.limits?.[resource]) === undefined,
  );
}

/**
 * Both CPU and memory are limited, and each request equals its limit. A request
 * left out takes the limit; an explicit zero request does not, so it breaks the
 * equality, as in Kubernetes.
 */
function isGuaranteed(container: V1Container): boolean {
  return QOS_RESOURCES.every((resource) => {
    const limit = positive(container.resources?.limits?.[resource]);
    const requested = container.resources?.requests?.[resource];
    const request = requested === undefined ? limit : amount(requested);
    return limit !== undefined && request === limit;
  });
}

/** The quantity when it is set and above zero, else undefined. */
function positive(quantity: string | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const value = amount(quantity);
  return value > 0 ? value : undefined;
}

/**
 * The quantity as a whole number of nano-units, so that "500m" and "0.5", or
 * "1Gi" and "1073741824", compare equal without floating-point noise.
 */
function amount(quantity: string): number {
  return Math.round(parseQuantity(quantity) * 1e9);
}
