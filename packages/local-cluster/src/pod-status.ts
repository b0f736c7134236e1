import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PodDirectives } from './annotations.ts';
import type { KubeletTimings } from './container-plans.ts';
import { appPlan, isSidecar } from './container-plans.ts';
import type { ContainerIdentity, ContainerView } from './container-status.ts';
import { containerStatusDocument } from './container-status.ts';
import type { ContainerPlan, ContainerSnapshot } from './container-timeline.ts';
import { containerSnapshotAt } from './container-timeline.ts';
import type { InitSequence } from './init-sequence.ts';
import { runInitSequence } from './init-sequence.ts';
import type { ConditionFacts, PreviousCondition } from './pod-conditions.ts';
import { podConditions } from './pod-conditions.ts';
import type {
  ContainerStatusDocument,
  PodConditionDocument,
  PodPhase,
  PodStatusDocument,
} from './status-documents.ts';
import { isTerminalPhase } from './status-documents.ts';
import { formatApiTime } from './time.ts';

export type { KubeletTimings } from './container-plans.ts';

/**
 * The kubelet's view of one pod as a pure function of its spec, the simulator's
 * annotations and the clock. Everything the simulator writes to pods/status comes from
 * here, so it can be unit-tested without a cluster and replayed after a restart.
 */
export interface PodClock {
  now: number;
  /** When the kubelet admitted the pod (status.startTime). */
  admittedAt: number;
  /** When the sandbox is (or was) ready; undefined while volumes are not ready. */
  sandboxReadyAt: number | undefined;
}

export interface PodAddresses {
  hostIP: string;
  podIP: string;
}

export interface PodStatusInput {
  pod: V1Pod;
  directives: PodDirectives;
  clock: PodClock;
  addresses: PodAddresses;
  timings: KubeletTimings;
  /** Conditions last written, to keep their transition times. */
  previousConditions: readonly PreviousCondition[];
}

export interface PodStatusResult {
  status: PodStatusDocument;
  /** When the status changes next on its own (a timer should fire then). */
  nextChangeAt: number | undefined;
  terminal: boolean;
}

/** Every container's view plus what the pod-level fields are derived from. */
interface PodViews {
  sandboxReady: boolean;
  init: Map<string, ContainerView>;
  app: Map<string, ContainerView>;
  /** Undefined until the sandbox exists: then nothing has run yet. */
  sequence: InitSequence | undefined;
  phase: PodPhase;
  nextChangeAt: number | undefined;
}

function replayed(snapshot: ContainerSnapshot, readyWhenCompleted: boolean): ContainerView {
  return { kind: 'replayed', snapshot, readyWhenCompleted };
}

function earliestFuture(times: (number | undefined)[], now: number): number | undefined {
  const future = times.filter((at): at is number => at !== undefined && at > now);
  return future.length === 0 ? undefined : Math.min(...future);
}

function appSnapshots(
  input: PodStatusInput,
  startAt: number | undefined,
): Map<string, ContainerSnapshot> {
  const snapshots = new Map<string, ContainerSnapshot>();
  if (startAt === undefined) {
    return snapshots;
  }

  for (const container of input.pod.spec?.containers ?? []) {
    const plan = appPlan(input, container.name, startAt);
    snapshots.set(container.name, containerSnapshotAt(plan, input.clock.now));
  }
  return snapshots;
}

/** When every app container is done for good, the pod is done (and sidecars are stopped). */
function podDoneAt(
  sequence: InitSequence,
  apps: Map<string, ContainerSnapshot>,
): number | undefined {
  if (sequence.failedAt !== undefined) {
    return sequence.failedAt;
  }

  const finishedAt = [...apps.values()].map((snapshot) =>
    snapshot.phase.kind === 'finished' ? snapshot.phase.run.finishedAt : undefined,
  );
  if (finishedAt.length === 0 || finishedAt.includes(undefined)) {
    return undefined;
  }

  return Math.max(...finishedAt.map((at) => at ?? 0));
}

/** Sidecars run until the pod is done; then the kubelet stops them and they exit 0. */
function sidecarSnapshot(
  plan: ContainerPlan,
  now: number,
  doneAt: number | undefined,
): ContainerSnapshot {
  const snapshot = containerSnapshotAt(plan, Math.min(now, doneAt ?? now));
  if (doneAt === undefined) {
    return snapshot;
  }

  const { phase, lastTerminated } = snapshot;
  const run =
    phase.kind === 'running'
      ? { startedAt: phase.startedAt, finishedAt: doneAt, exitCode: 0 }
      : (lastTerminated ?? { startedAt: doneAt, finishedAt: doneAt, exitCode: 0 });
  return { ...snapshot, phase: { kind: 'finished', run }, nextChangeAt: undefined };
}

/** The kubelet's phase rules: a container that never started keeps the pod Pending. */
function appPhase(apps: Map<string, ContainerSnapshot>): PodPhase {
  const phases = [...apps.values()].map((snapshot) => snapshot.phase);

  if (phases.some((phase) => phase.kind === 'blocked')) {
    return 'Pending';
  }
  if (phases.some((phase) => phase.kind === 'running')) {
    return 'Running';
  }
  if (phases.every((phase) => phase.kind === 'finished')) {
    const failed = phases.some((phase) => phase.run.exitCode !== 0);
    return failed ? 'Failed' : 'Succeeded';
  }
  return 'Running';
}

function podPhase(sequence: InitSequence, apps: Map<string, ContainerSnapshot>): PodPhase {
  if (sequence.failedAt !== undefined) {
    return 'Failed';
  }

  return sequence.completedAt === undefined ? 'Pending' : appPhase(apps);
}

function notStartedViews(containers: V1Container[], reason: string): Map<string, ContainerView> {
  return new Map(containers.map((container) => [container.name, { kind: 'not-started', reason }]));
}

function viewsBeforeSandbox(input: PodStatusInput): PodViews {
  const initContainers = input.pod.spec?.initContainers ?? [];
  const reason = initContainers.length > 0 ? 'PodInitializing' : 'ContainerCreating';
  return {
    sandboxReady: false,
    init: notStartedViews(initContainers, reason),
    app: notStartedViews(input.pod.spec?.containers ?? [], reason),
    sequence: undefined,
    phase: 'Pending',
    nextChangeAt: earliestFuture([input.clock.sandboxReadyAt], input.clock.now),
  };
}

function viewsAfterSandbox(input: PodStatusInput, sandboxReadyAt: number): PodViews {
  const { now } = input.clock;
  const sequence = runInitSequence(input, sandboxReadyAt, now);
  const apps = appSnapshots(input, sequence.completedAt);
  const doneAt = podDoneAt(sequence, apps);
  const sidecars = new Map(
    [...sequence.sidecarPlans].map(([name, plan]) => [name, sidecarSnapshot(plan, now, doneAt)]),
  );
  const init = new Map<string, ContainerView>();
  const app = new Map<string, ContainerView>();

  for (const [name, snapshot] of sequence.snapshots) {
    init.set(name, replayed(snapshot, true));
  }
  for (const [name, snapshot] of sidecars) {
    init.set(name, replayed(snapshot, false));
  }
  for (const [name, snapshot] of apps) {
    app.set(name, replayed(snapshot, false));
  }

  const phase = podPhase(sequence, apps);
  const timers = [...apps.values(), ...sidecars.values()].map((snapshot) => snapshot.nextChangeAt);
  const nextChangeAt = isTerminalPhase(phase)
    ? undefined
    : earliestFuture([sequence.nextChangeAt, ...timers], now);
  return { sandboxReady: true, init, app, sequence, phase, nextChangeAt };
}

function podViews(input: PodStatusInput): PodViews {
  const { sandboxReadyAt, now } = input.clock;
  return sandboxReadyAt !== undefined && now >= sandboxReadyAt
    ? viewsAfterSandbox(input, sandboxReadyAt)
    : viewsBeforeSandbox(input);
}

function identityOf(pod: V1Pod, container: V1Container): ContainerIdentity {
  return {
    podUid: pod.metadata?.uid ?? '',
    podName: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: container.name,
    image: container.image ?? '',
  };
}

/** Containers the init sequence has not reached yet wait in PodInitializing. */
function statusDocuments(
  input: PodStatusInput,
  containers: V1Container[],
  views: Map<string, ContainerView>,
): ContainerStatusDocument[] {
  const fallback: ContainerView = { kind: 'not-started', reason: 'PodInitializing' };
  return containers.map((container) => {
    const view = views.get(container.name) ?? fallback;
    return containerStatusDocument(identityOf(input.pod, container), view, input.clock.now);
  });
}

function unmetReadinessGates(pod: V1Pod): string[] {
  const conditions = pod.status?.conditions ?? [];
  const gates = (pod.spec?.readinessGates ?? []).map((gate) => gate.conditionType);
  const holds = (type: string): boolean =>
    conditions.some((entry) => entry.type === type && entry.status === 'True');
  return gates.filter((type) => !holds(type));
}

/** Readiness counts app containers and sidecars; completed init containers do not matter. */
function conditionFacts(
  input: PodStatusInput,
  views: PodViews,
  statuses: { init: ContainerStatusDocument[]; app: ContainerStatusDocument[] },
): ConditionFacts {
  const initContainers = input.pod.spec?.initContainers ?? [];
  const sidecars = new Set(initContainers.filter(isSidecar).map((container) => container.name));
  const counted = [...statuses.app, ...statuses.init.filter((status) => sidecars.has(status.name))];

  return {
    sandboxReady: views.sandboxReady,
    terminal: isTerminalPhase(views.phase),
    incompleteInit: views.sequence?.incomplete ?? initContainers.map((container) => container.name),
    unready: counted.filter((status) => !status.ready).map((status) => status.name),
    unmetGates: unmetReadinessGates(input.pod),
    needsPodScheduled: !input.previousConditions.some((entry) => entry.type === 'PodScheduled'),
    generation: input.pod.metadata?.generation,
  };
}

function statusDocument(
  input: PodStatusInput,
  views: PodViews,
  conditions: PodConditionDocument[],
  statuses: { init: ContainerStatusDocument[]; app: ContainerStatusDocument[] },
): PodStatusDocument {
  const { pod, addresses, clock } = input;
  const status: PodStatusDocument = {
    phase: views.phase,
    conditions,
    hostIP: addresses.hostIP,
    hostIPs: [{ ip: addresses.hostIP }],
    startTime: formatApiTime(clock.admittedAt),
    containerStatuses: statuses.app,
  };

  if (pod.metadata?.generation !== undefined) {
    status.observedGeneration = pod.metadata.generation;
  }
  if (views.sandboxReady) {
    // Host-network pods share the node's address (https://kubernetes.io/docs/concepts/workloads/pods/#pod-networking).
    const podIP = pod.spec?.hostNetwork === true ? addresses.hostIP : addresses.podIP;
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (statuses.init.length > 0) {
    status.initContainerStatuses = statuses.init;
  }
  return status;
}

export function computePodStatus(input: PodStatusInput): PodStatusResult {
  const views = podViews(input);
  const statuses = {
    init: statusDocuments(input, input.pod.spec?.initContainers ?? [], views.init),
    app: statusDocuments(input, input.pod.spec?.containers ?? [], views.app),
  };
  const facts = conditionFacts(input, views, statuses);
  const conditions = podConditions(facts, input.previousConditions, input.clock.now);

  return {
    status: statusDocument(input, views, conditions, statuses),
    nextChangeAt: views.nextChangeAt,
    terminal: isTerminalPhase(views.phase),
  };
}
