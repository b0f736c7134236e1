import type {
  V1Container,
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodSpec,
} from '@kubernetes/client-node';

import { NothingToMigrateError, PodNotOnSourceNodeError, PodTerminatingError } from '../errors.ts';
import type { ContainerRunState, ContainerState, RequestedResources } from '../migration.ts';
import { sumRequests } from '../requested-resources.ts';
import {
  checkCapacity,
  schedulingRequest,
  type CapacityFigures,
  type SchedulingRequest,
} from './capacity.ts';
import { checkController, type ControllerHandling } from './controller.ts';
import { podRef } from './pod-ref.ts';
import { qosClass, type QosClass } from './qos.ts';
import { checkTargetNode, HOSTNAME_LABEL, type TargetNodeCheck } from './target-node.ts';
import { checkVolumes, type VolumeCheck } from './volumes.ts';

export interface MigrationPlanInput {
  pod: V1Pod;
  sourceNode: string;
  targetNode: V1Node;
  /** The pods bound to the target node; those bound elsewhere or finished are ignored. */
  podsOnTarget: V1Pod[];
  /** The claims the pod's volumes name. */
  claims: V1PersistentVolumeClaim[];
  /** The volumes those claims are bound to. */
  persistentVolumes: V1PersistentVolume[];
  /** The app containers' states from capture (captureContainerStates). */
  containerStates: ContainerState[];
}

/**
 * app: one of spec.containers. init: a classic init container, which runs to
 * completion before the app containers. sidecar: a native sidecar, an init container
 * with restartPolicy Always that keeps running beside the app containers.
 */
export type ContainerRole = 'app' | 'init' | 'sidecar';

export interface PlannedContainer {
  name: string;
  role: ContainerRole;
  keep: boolean;
  /** The captured state of an app container; null for init containers and sidecars. */
  state: ContainerRunState | null;
  reason: string;
}

export interface PlannedResources {
  /** Summed over the app containers, as on the migration record. */
  requested: RequestedResources;
  /** What the scheduler reserves: init containers, sidecars and overhead included. */
  scheduling_request: SchedulingRequest;
  qos_class: QosClass;
}

export interface PlannedPlacement {
  target_node: string;
  /** Value of the target's kubernetes.io/hostname label; null when it has none. */
  hostname: string | null;
  method: 'scheduler-required-node-affinity';
  /** The requirement ANDed into each required node affinity term of the new pod. */
  requirement: { match: 'label' | 'field'; key: string; operator: 'In'; values: string[] };
  description: string;
}

/**
 * Everything decided before a migration touches the cluster. Plain JSON with the
 * migration record's snake_case names: it is answered verbatim for a dry run and
 * stored on the record.
 */
export interface MigrationPlan {
  pod: { namespace: string; name: string; uid: string | null };
  source_node: string;
  target_node: string;
  /** Init containers and sidecars in spec order, then the app containers. */
  containers: PlannedContainer[];
  /** Names of the app containers the new pod keeps. */
  kept_containers: string[];
  resources: { before: PlannedResources; after: PlannedResources };
  placement: PlannedPlacement;
  capacity: CapacityFigures;
  volumes: Omit<VolumeCheck, 'warnings'>;
  controller: ControllerHandling;
  warnings: string[];
}

/**
 * Decides whether `pod` can move from `sourceNode` to `targetNode`, and how. Pure:
 * the caller reads every object first. Throws the OrchestratorError of the first
 * check that fails, cheapest and most fundamental first, capacity last since it
 * depends on which containers are kept.
 */
export function buildMigrationPlan(input: MigrationPlanInput): MigrationPlan {
  const { pod } = input;
  const spec = checkPod(pod, input.sourceNode);

  const controller = checkController(pod);
  const target = checkTargetNode(input.targetNode, pod);
  const { warnings: volumeWarnings, ...volumes } = checkVolumes({
    pod,
    claims: input.claims,
    persistentVolumes: input.persistentVolumes,
    targetNode: input.targetNode,
  });

  const containers = planContainers(spec, input.containerStates);
  const afterSpec = keptSpec(pod, spec, containers);
  const newPod: V1Pod = { metadata: pod.metadata ?? {}, spec: afterSpec };
  const capacity = checkCapacity(newPod, input.targetNode, input.podsOnTarget);

  const resources = { before: planResources(spec), after: planResources(afterSpec) };
  return {
    pod: {
      namespace: pod.metadata?.namespace ?? 'default',
      name: pod.metadata?.name ?? '',
      uid: pod.metadata?.uid ?? null,
    },
    source_node: input.sourceNode,
    target_node: target.node,
    containers,
    kept_containers: afterSpec.containers.map((c) => c.name),
    resources,
    placement: planPlacement(target),
    capacity,
    volumes,
    controller,
    warnings: [
      ...target.warnings,
      ...volumeWarnings,
      ...qosWarnings(resources),
      ...placementWarnings(target),
    ],
  };
}

/** The checks capture always made: the pod still runs, and where the caller says. */
function checkPod(pod: V1Pod, sourceNode: string): V1PodSpec {
  if (pod.metadata?.deletionTimestamp) throw new PodTerminatingError(podRef(pod));

  const spec = pod.spec;
  if (!spec?.nodeName || spec.nodeName !== sourceNode) {
    throw new PodNotOnSourceNodeError(podRef(pod), sourceNode, spec?.nodeName);
  }
  return spec;
}

/**
 * Init containers and sidecars are always kept: classic init containers run again
 * on the target, since a new pod starts from its first init container, and
 * sidecars serve the app containers. App containers follow capture's decision.
 * See https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
 */
function planContainers(spec: V1PodSpec, states: ContainerState[]): PlannedContainer[] {
  const byName = new Map(states.map((state) => [state.name, state]));
  const init = (spec.initContainers ?? []).map(planInitContainer);
  const apps = spec.containers.map((container): PlannedContainer => {
    const state = byName.get(container.name);
    if (!state) {
      return { name: container.name, role: 'app', keep: true, state: null, reason: NO_STATE };
    }
    const { should_migrate: keep, decision: reason } = state;
    return { name: container.name, role: 'app', keep, state: state.state, reason };
  });
  return [...init, ...apps];
}

const NO_STATE = 'no state was captured; kept so that it runs on the target';

function planInitContainer(container: V1Container): PlannedContainer {
  if (container.restartPolicy === 'Always') {
    return {
      name: container.name,
      role: 'sidecar',
      keep: true,
      state: null,
      reason: 'native sidecar (restartPolicy Always): kept, starts before the app containers',
    };
  }
  return {
    name: container.name,
    role: 'init',
    keep: true,
    state: null,
    reason: 'init container: runs again on the target before the app containers start',
  };
}

/** The new pod's spec as far as resources go: the original's, with only the kept app containers. */
function keptSpec(pod: V1Pod, spec: V1PodSpec, planned: PlannedContainer[]): V1PodSpec {
  const kept = new Set(planned.filter((p) => p.role === 'app' && p.keep).map((p) => p.name));
  const containers = spec.containers.filter((container) => kept.has(container.name));
  if (containers.length === 0) throw new NothingToMigrateError(podRef(pod));

  // Object.assign rather than a spread: client-node models are classes to the linter.
  return Object.assign({}, spec, { containers });
}

function planResources(spec: V1PodSpec): PlannedResources {
  return {
    requested: sumRequests(spec.containers),
    scheduling_request: schedulingRequest(spec),
    qos_class: qosClass(spec),
  };
}

/**
 * The kubelet ranks pods by QoS class for eviction under node pressure and sets
 * the OOM score from it, so a change is worth knowing before the move.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/node-pressure-eviction/
 */
function qosWarnings(resources: { before: PlannedResources; after: PlannedResources }): string[] {
  const before = resources.before.qos_class;
  const after = resources.after.qos_class;
  if (before === after) return [];
  return [
    `the QoS class changes from ${before} to ${after} once the dropped containers are gone; ` +
      'eviction order and OOM score on the target follow the new class',
  ];
}

/**
 * The new pod goes through the scheduler, not spec.nodeName, so that taints,
 * capacity and the pod's own constraints still apply. It selects the target by its
 * hostname label; a node without one is selected by name as a field instead.
 * See https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
 */
function planPlacement(target: TargetNodeCheck): PlannedPlacement {
  const requirement: PlannedPlacement['requirement'] =
    target.hostname === null
      ? { match: 'field', key: 'metadata.name', operator: 'In', values: [target.node] }
      : { match: 'label', key: HOSTNAME_LABEL, operator: 'In', values: [target.hostname] };

  return {
    target_node: target.node,
    hostname: target.hostname,
    method: 'scheduler-required-node-affinity',
    requirement,
    description:
      `placed through the scheduler with a required node affinity on ${requirement.key} In ` +
      `[${requirement.values.join(', ')}], ANDed into the pod's own required terms`,
  };
}

function placementWarnings(target: TargetNodeCheck): string[] {
  if (target.hostname !== null) return [];
  return [
    `target_node ${target.node} has no ${HOSTNAME_LABEL} label; the new pod must select it ` +
      'by metadata.name instead',
  ];
}
