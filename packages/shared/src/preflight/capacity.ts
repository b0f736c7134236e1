import type { V1Container, V1Node, V1Pod, V1PodSpec } from '@kubernetes/client-node';

import { InsufficientCapacityError } from '../errors.ts';
import {
  cpuToMillicores,
  formatBytes,
  formatMillicores,
  memoryToBytes,
  parseQuantity,
} from '../quantity.ts';
import { podRef } from './pod-ref.ts';

/** What the scheduler reserves for a pod: CPU in millicores, memory in bytes. */
export interface SchedulingRequest {
  cpu_millicores: number;
  memory_bytes: number;
}

/** One resource of the target node: what the pod asks and what the node has left. */
export interface ResourceFit {
  unit: 'millicores' | 'bytes' | 'pods';
  requested: number;
  allocatable: number;
  /** Summed over the non-terminal pods already bound to the node. */
  in_use: number;
  /** allocatable minus in_use; negative when the node is already overcommitted. */
  free: number;
  fits: boolean;
}

export interface CapacityFigures {
  node: string;
  cpu: ResourceFit;
  memory: ResourceFit;
  pods: ResourceFit;
  fits: boolean;
}

type RequestSpec = Pick<V1PodSpec, 'containers' | 'initContainers' | 'overhead' | 'resources'>;

const ZERO: SchedulingRequest = { cpu_millicores: 0, memory_bytes: 0 };

/**
 * The pod's effective request as the scheduler computes it: the larger of what the
 * app containers need together and what the init phase needs at its peak, plus the
 * RuntimeClass overhead. Native sidecars (init containers with restartPolicy Always)
 * keep running, so they add to the app containers and to every init container that
 * starts after them. Pod-level requests (spec.resources), where set, replace the
 * containers' sum.
 * See https://kubernetes.io/docs/concepts/workloads/pods/init-containers/#resource-sharing-within-containers
 * and https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
 */
export function schedulingRequest(spec: RequestSpec): SchedulingRequest {
  let running = spec.containers.map(containerRequest).reduce(add, ZERO);
  let sidecars = ZERO;
  let initPeak = ZERO;

  for (const container of spec.initContainers ?? []) {
    const own = containerRequest(container);
    if (container.restartPolicy === 'Always') {
      running = add(running, own);
      sidecars = add(sidecars, own);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(sidecars, own));
    }
  }

  const containers = withPodLevelRequests(max(running, initPeak), spec);
  return add(containers, toRequest(spec.overhead));
}

/**
 * Whether a pod with `pod`'s spec fits the free allocatable CPU, memory and pod
 * slots of `node`, given the pods already bound there, by the scheduler's
 * NodeResourcesFit rules: a resource the pod does not request always fits, and
 * pods that have finished (Succeeded or Failed) hold nothing.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/resource-bin-packing/
 * and https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#how-pods-with-resource-requests-are-scheduled
 *
 * Only CPU, memory and the pod count are checked; extended resources (GPUs) and
 * ephemeral storage are left to the scheduler.
 */
export function capacityFigures(pod: V1Pod, node: V1Node, podsOnNode: V1Pod[]): CapacityFigures {
  const name = node.metadata?.name ?? '';
  const bound = podsOnNode.filter((other) => other.spec?.nodeName === name && !isTerminal(other));
  const inUse = bound
    .map((other) => (other.spec ? schedulingRequest(other.spec) : ZERO))
    .reduce(add, ZERO);
  const wanted = pod.spec ? schedulingRequest(pod.spec) : ZERO;
  const allocatable = node.status?.allocatable ?? {};

  const cpu = fit(
    'millicores',
    wanted.cpu_millicores,
    cpuOf(allocatable['cpu']),
    inUse.cpu_millicores,
  );
  const memory = fit(
    'bytes',
    wanted.memory_bytes,
    memoryOf(allocatable['memory']),
    inUse.memory_bytes,
  );
  const pods = fit('pods', 1, countOf(allocatable['pods']), bound.length);
  return { node: name, cpu, memory, pods, fits: cpu.fits && memory.fits && pods.fits };
}

/** capacityFigures, throwing InsufficientCapacityError when the pod does not fit. */
export function checkCapacity(pod: V1Pod, node: V1Node, podsOnNode: V1Pod[]): CapacityFigures {
  const figures = capacityFigures(pod, node, podsOnNode);
  if (figures.fits) return figures;

  const shortfalls = [figures.cpu, figures.memory, figures.pods]
    .filter((resource) => !resource.fits)
    .map(describeShortfall);
  throw new InsufficientCapacityError(podRef(pod), figures.node, shortfalls);
}

function fit(
  unit: ResourceFit['unit'],
  requested: number,
  allocatable: number,
  inUse: number,
): ResourceFit {
  const free = allocatable - inUse;
  return {
    unit,
    requested,
    allocatable,
    in_use: inUse,
    free,
    fits: requested <= 0 || requested <= free,
  };
}

function describeShortfall(resource: ResourceFit): string {
  const format = FORMATS[resource.unit];
  return (
    `${RESOURCE_NAMES[resource.unit]}: requested ${format(resource.requested)}, ` +
    `free ${format(resource.free)} of ${format(resource.allocatable)} allocatable`
  );
}

const RESOURCE_NAMES: Record<ResourceFit['unit'], string> = {
  millicores: 'cpu',
  bytes: 'memory',
  pods: 'pods',
};

const FORMATS: Record<ResourceFit['unit'], (value: number) => string> = {
  millicores: formatMillicores,
  bytes: formatBytes,
  pods: String,
};

/** Pods in a final phase are no longer counted against the node. */
function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function withPodLevelRequests(containers: SchedulingRequest, spec: RequestSpec): SchedulingRequest {
  const requests = spec.resources?.requests ?? {};
  return {
    cpu_millicores:
      requests['cpu'] === undefined ? containers.cpu_millicores : cpuOf(requests['cpu']),
    memory_bytes:
      requests['memory'] === undefined ? containers.memory_bytes : memoryOf(requests['memory']),
  };
}

function containerRequest(container: V1Container): SchedulingRequest {
  return toRequest(container.resources?.requests);
}

function toRequest(list: Record<string, string> | undefined): SchedulingRequest {
  return { cpu_millicores: cpuOf(list?.['cpu']), memory_bytes: memoryOf(list?.['memory']) };
}

function cpuOf(quantity: string | undefined): number {
  return quantity === undefined ? 0 : cpuToMillicores(quantity);
}

function memoryOf(quantity: string | undefined): number {
  return quantity === undefined ? 0 : memoryToBytes(quantity);
}

function countOf(quantity: string | undefined): number {
  return quantity === undefined ? 0 : Math.floor(parseQuantity(quantity));
}

function add(a: SchedulingRequest, b: SchedulingRequest): SchedulingRequest {
  return {
    cpu_millicores: a.cpu_millicores + b.cpu_millicores,
    memory_bytes: a.memory_bytes + b.memory_bytes,
  };
}

function max(a: SchedulingRequest, b: SchedulingRequest): SchedulingRequest {
  return {
    cpu_millicores: Math.max(a.cpu_millicores, b.cpu_millicores),
    memory_bytes: Math.max(a.memory_bytes, b.memory_bytes),
  };
}
