import type { PodConditionDocument } from './status-documents.ts';
import type { ApiTime } from './time.ts';
import { formatApiTime, toMillis } from './time.ts';

/** What the kubelet knows when it computes a pod's conditions. */
export interface ConditionFacts {
  sandboxReady: boolean;
  terminal: boolean;
  /** Classic init containers not yet completed, and sidecars not yet started. */
  incompleteInit: string[];
  /** App containers and sidecars that are not ready. */
  unready: string[];
  /** Readiness gate condition types whose condition (set by someone else) is not True. */
  unmetGates: string[];
  needsPodScheduled: boolean;
  generation: number | undefined;
}

export interface PreviousCondition {
  type?: string;
  status?: string;
  lastTransitionTime?: ApiTime;
}

type ConditionCore = Pick<PodConditionDocument, 'type' | 'status' | 'reason' | 'message'>;

function condition(type: string, holds: boolean, reason?: string, message?: string): ConditionCore {
  const core: ConditionCore = { type, status: holds ? 'True' : 'False' };
  if (!holds && reason !== undefined) {
    core.reason = reason;
  }
  if (!holds && message !== undefined) {
    core.message = message;
  }

  return core;
}

function listMessage(prefix: string, names: string[]): string {
  return `${prefix}: [${names.join(' ')}]`;
}

function containersReadyCondition(type: string, facts: ConditionFacts): ConditionCore {
  if (facts.terminal) {
    return condition(type, false, 'PodCompleted');
  }

  const message = listMessage('containers with unready status', facts.unready);
  return condition(type, facts.unready.length === 0, 'ContainersNotReady', message);
}

function readyCondition(facts: ConditionFacts): ConditionCore {
  const containers = containersReadyCondition('Ready', facts);
  if (containers.status === 'False' || facts.unmetGates.length === 0) {
    return containers;
  }

  const message = listMessage('the status of pod readiness gates is not "True"', facts.unmetGates);
  return condition('Ready', false, 'ReadinessGatesNotReady', message);
}

function initializedCondition(facts: ConditionFacts): ConditionCore {
  const message = listMessage('containers with incomplete status', facts.incompleteInit);
  return condition(
    'Initialized',
    facts.incompleteInit.length === 0,
    'ContainersNotInitialized',
    message,
  );
}

/**
 * Keeps a condition's lastTransitionTime while its status is unchanged, as the kubelet
 * does; a flip takes the current time.
 */
function withTransitionTime(
  core: ConditionCore,
  previous: readonly PreviousCondition[],
  now: number,
  generation: number | undefined,
): PodConditionDocument {
  const before = previous.find((entry) => entry.type === core.type);
  const since = before?.status === core.status ? toMillis(before.lastTransitionTime) : undefined;
  const document: PodConditionDocument = {
    ...core,
    lastProbeTime: null,
    lastTransitionTime: formatApiTime(since ?? now),
  };

  return generation === undefined ? document : { ...document, observedGeneration: generation };
}

/** The conditions the kubelet owns, in the order it writes them. */
export function podConditions(
  facts: ConditionFacts,
  previous: readonly PreviousCondition[],
  now: number,
): PodConditionDocument[] {
  const sandbox = condition('PodReadyToStartContainers', facts.sandboxReady && !facts.terminal);
  const cores = [
    sandbox,
    initializedCondition(facts),
    readyCondition(facts),
    containersReadyCondition('ContainersReady', facts),
  ];

  if (facts.needsPodScheduled) {
    cores.push(condition('PodScheduled', true));
  }

  return cores.map((core) => withTransitionTime(core, previous, now, facts.generation));
}
