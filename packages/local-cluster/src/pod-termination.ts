import type {
  ContainerStatusDocument,
  PodConditionDocument,
  PodStatusDocument,
  TerminatedState,
} from './status-documents.ts';
import { formatApiTime } from './time.ts';

/**
 * The status the kubelet reports once it has stopped a deleted pod's containers
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination):
 * running containers end as if they handled SIGTERM and exited 0, containers that never
 * ran are reported as unknown, and the pod reaches a terminal phase before it is removed.
 */
function stoppedState(status: ContainerStatusDocument, finishedAt: string): TerminatedState {
  const { running, terminated } = status.state;
  if (terminated !== undefined) {
    return terminated;
  }

  if (running !== undefined) {
    const stopped: TerminatedState = {
      exitCode: 0,
      reason: 'Completed',
      startedAt: running.startedAt,
      finishedAt,
    };
    return status.containerID === undefined
      ? stopped
      : { ...stopped, containerID: status.containerID };
  }

  const previous = status.lastState.terminated;
  if (previous !== undefined) {
    return previous;
  }

  return {
    exitCode: 137,
    reason: 'ContainerStatusUnknown',
    message: 'container never started before the pod was deleted',
    finishedAt,
  };
}

function stopContainer(
  status: ContainerStatusDocument,
  finishedAt: string,
): ContainerStatusDocument {
  const terminated = stoppedState(status, finishedAt);
  const lastState = status.lastState.terminated === terminated ? {} : status.lastState;
  return { ...status, ready: false, started: false, state: { terminated }, lastState };
}

function stopCondition(condition: PodConditionDocument, at: string): PodConditionDocument {
  const goesFalse = ['PodReadyToStartContainers', 'Ready', 'ContainersReady'].includes(
    condition.type,
  );
  if (!goesFalse || condition.status === 'False') {
    return condition;
  }

  const reason = condition.type === 'PodReadyToStartContainers' ? {} : { reason: 'PodCompleted' };
  return { ...condition, ...reason, status: 'False', lastTransitionTime: at };
}

export function terminatedPodStatus(status: PodStatusDocument, at: number): PodStatusDocument {
  const finishedAt = formatApiTime(at);
  const containerStatuses = status.containerStatuses.map((entry) =>
    stopContainer(entry, finishedAt),
  );
  const initContainerStatuses = status.initContainerStatuses?.map((entry) =>
    stopContainer(entry, finishedAt),
  );
  const failed = containerStatuses.some((entry) => entry.state.terminated?.exitCode !== 0);
  const terminated: PodStatusDocument = {
    ...status,
    phase: failed ? 'Failed' : 'Succeeded',
    conditions: status.conditions.map((condition) => stopCondition(condition, finishedAt)),
    containerStatuses,
  };

  return initContainerStatuses === undefined
    ? terminated
    : { ...terminated, initContainerStatuses };
}
