import type { CoreV1Api, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ProblemReporter } from './annotation-problems.ts';
import { problemReporter } from './annotation-problems.ts';
import type { PodDirectives } from './annotations.ts';
import { parsePodDirectives } from './annotations.ts';
import { describeError, isConflict, isNotFound } from './api-errors.ts';
import type { MetricsPublisher } from './metrics-publisher.ts';
import type { PreviousCondition } from './pod-conditions.ts';
import type { PodIpAllocator } from './pod-ips.ts';
import type { KubeletTimings, PodStatusResult } from './pod-status.ts';
import { computePodStatus } from './pod-status.ts';
import { terminatedPodStatus } from './pod-termination.ts';
import { podUsage } from './pod-usage.ts';
import { unboundClaims } from './pod-volumes.ts';
import type { SimulatedNode } from './simulated-nodes.ts';
import type { PodStatusDocument } from './status-documents.ts';
import { isTerminalPhase } from './status-documents.ts';
import { toMillis } from './time.ts';

/**
 * What the kubelet's pod worker does for one pod: admit it, wait for its volumes, move
 * its containers through their lifecycle, and finish a graceful deletion. Status writes
 * go through pods/status and carry the pod's UID, which the apiserver checks, so a
 * recreated pod of the same name is never written by mistake.
 */
export interface PodWorkerContext {
  core: CoreV1Api;
  node: SimulatedNode;
  ips: PodIpAllocator;
  claim: (key: string) => V1PersistentVolumeClaim | undefined;
  metrics: MetricsPublisher;
  timings: KubeletTimings & { sandboxDelayMs: number; deleteGraceCapSeconds: number };
  logger: Logger;
}

export interface PodWorker {
  observe(pod: V1Pod): void;
  /** Re-evaluates the pod, e.g. after one of its claims changed. */
  poke(): void;
  waitsForClaim(namespace: string, claimName: string): boolean;
  dispose(): void;
}

/** What the worker remembers between syncs; all of it can be rebuilt from the pod's status. */
interface WorkerState {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  readonly admittedAt: number;
  readonly podIP: string;
  readonly problems: ProblemReporter;
  pod: V1Pod;
  sandboxReadyAt: number | undefined;
  written: PodStatusDocument | undefined;
  done: boolean;
}

/** What a sync asks for next. */
type SyncOutcome = { wakeAt: number | undefined } | { finished: true };

const DEFAULT_GRACE_SECONDS = 30;
const TIMER_SLACK_MS = 20;
const RETRY_MS = 1000;
const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/**
 * Pod conditions are merged by type in a strategic merge patch, so a reason or message
 * the new condition no longer has must be nulled explicitly or the old one survives.
 */
function patchable(status: PodStatusDocument): object {
  const conditions = status.conditions.map((condition) => ({
    reason: null,
    message: null,
    ...condition,
  }));
  return { ...status, conditions };
}

/** After a simulator restart the sandbox time comes back from the condition it set. */
function sandboxReadySince(pod: V1Pod): number | undefined {
  const condition = pod.status?.conditions?.find(
    (entry) => entry.type === 'PodReadyToStartContainers',
  );
  return condition?.status === 'True' ? toMillis(condition.lastTransitionTime) : undefined;
}

/** Conditions this worker wrote win; conditions others own (PodScheduled, gates) are kept. */
function previousConditions(state: WorkerState): PreviousCondition[] {
  const ours = state.written?.conditions ?? [];
  const observed = (state.pod.status?.conditions ?? []).filter(
    (entry) => !ours.some((own) => own.type === entry.type),
  );
  return [...ours, ...observed];
}

/** The deletion was requested grace seconds before deletionTimestamp; the cap shortens it. */
function deletionStopAt(pod: V1Pod, capSeconds: number): number {
  const grace = pod.metadata?.deletionGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  const deadline = toMillis(pod.metadata?.deletionTimestamp) ?? Date.now();
  return deadline - grace * 1000 + Math.min(grace, capSeconds) * 1000;
}

async function writeStatus(
  state: WorkerState,
  context: PodWorkerContext,
  status: PodStatusDocument,
): Promise<void> {
  if (JSON.stringify(status) === JSON.stringify(state.written)) {
    return;
  }

  const body = { metadata: { uid: state.uid }, status: patchable(status) };
  const target = { name: state.name, namespace: state.namespace, body };
  await context.core.patchNamespacedPodStatus(target, strategicMergePatch);
  state.written = status;
}

function liveStatus(
  state: WorkerState,
  context: PodWorkerContext,
  directives: PodDirectives,
  now: number,
): PodStatusResult {
  if (state.sandboxReadyAt === undefined && unboundClaims(state.pod, context.claim).length === 0) {
    state.sandboxReadyAt = now + context.timings.sandboxDelayMs;
  }

  return computePodStatus({
    pod: state.pod,
    directives,
    clock: { now, admittedAt: state.admittedAt, sandboxReadyAt: state.sandboxReadyAt },
    addresses: { hostIP: context.node.internalIP, podIP: state.podIP },
    timings: context.timings,
    previousConditions: previousConditions(state),
  });
}

/** Reports the stopped containers, then deletes with grace 0 and a UID precondition. */
async function finishDeletion(
  state: WorkerState,
  context: PodWorkerContext,
  directives: PodDirectives,
  now: number,
): Promise<void> {
  if (!isTerminalPhase(state.pod.status?.phase)) {
    const stopped = terminatedPodStatus(liveStatus(state, context, directives, now).status, now);
    await writeStatus(state, context, stopped);
  }

  context.metrics.setPodUsage(state.key, undefined);
  const body = { gracePeriodSeconds: 0, preconditions: { uid: state.uid } };
  const target = { name: state.name, namespace: state.namespace, gracePeriodSeconds: 0, body };
  await context.core.deleteNamespacedPod(target);
}

async function sync(state: WorkerState, context: PodWorkerContext): Promise<SyncOutcome> {
  const parsed = parsePodDirectives(state.pod.metadata?.annotations);
  const now = Date.now();
  await state.problems.report(state.pod, parsed);

  if (state.pod.metadata?.deletionTimestamp !== undefined) {
    const stopAt = deletionStopAt(state.pod, context.timings.deleteGraceCapSeconds);
    if (now < stopAt) {
      return { wakeAt: stopAt };
    }
    await finishDeletion(state, context, parsed.directives, now);
    return { finished: true };
  }

  if (isTerminalPhase(state.pod.status?.phase)) {
    context.metrics.setPodUsage(state.key, undefined);
    return { finished: true };
  }

  const result = liveStatus(state, context, parsed.directives, now);
  await writeStatus(state, context, result.status);
  const usage = result.terminal ? undefined : podUsage(state.pod, parsed.directives, result.status);
  context.metrics.setPodUsage(state.key, usage);
  return { wakeAt: result.nextChangeAt };
}

function initialState(pod: V1Pod, context: PodWorkerContext): WorkerState {
  const uid = pod.metadata?.uid ?? '';
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const key = `${namespace}/${name}`;
  return {
    uid,
    namespace,
    name,
    key,
    admittedAt: toMillis(pod.status?.startTime) ?? Date.now(),
    podIP: context.ips.assign(uid, pod.status?.podIP),
    problems: problemReporter(context.core, context.logger.child({ pod: key })),
    pod,
    sandboxReadyAt: sandboxReadySince(pod),
    written: undefined,
    done: false,
  };
}

/** Syncs run one at a time per pod; a change during a sync queues exactly one more. */
export function startPodWorker(initial: V1Pod, context: PodWorkerContext): PodWorker {
  const state = initialState(initial, context);
  const logger = context.logger.child({ pod: state.key });
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  let queued = false;

  const wakeAt = (at: number | undefined): void => {
    clearTimeout(timer);
    timer = undefined;
    if (at !== undefined && !state.done) {
      timer = setTimeout(schedule, Math.max(0, at - Date.now()) + TIMER_SLACK_MS);
      timer.unref();
    }
  };

  const apply = (outcome: SyncOutcome): void => {
    if ('finished' in outcome) {
      state.done = true;
      wakeAt(undefined);
    } else {
      wakeAt(outcome.wakeAt);
    }
  };

  const onError = (error: unknown): void => {
    if (isNotFound(error) || isConflict(error)) {
      return;
    }
    logger.warn({ error: describeError(error) }, 'pod sync failed; retrying');
    wakeAt(Date.now() + RETRY_MS);
  };

  function schedule(): void {
    if (queued || state.done) {
      return;
    }

    queued = true;
    chain = chain
      .then(async () => {
        queued = false;
        if (!state.done) {
          apply(await sync(state, context));
        }
      })
      .catch(onError);
  }

  schedule();

  return {
    observe: (latest) => {
      state.pod = latest;
      schedule();
    },
    poke: schedule,
    waitsForClaim: (namespace, claimName) =>
      namespace === state.namespace && unboundClaims(state.pod, context.claim).includes(claimName),
    dispose: () => {
      state.done = true;
      clearTimeout(timer);
      context.ips.release(state.uid);
      context.metrics.setPodUsage(state.key, undefined);
    },
  };
}
