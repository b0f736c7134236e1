import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

import type { ContainerRunState, ContainerState } from '../migration.ts';

/**
 * Classifies each app container of a pod from what the kubelet last reported,
 * and decides whether the new pod needs it. A container is dropped only when it
 * completed and the pod's restartPolicy means the kubelet would not run it again
 * (Never or OnFailure); anything else still has work to do, or may have.
 */
export function captureContainerStates(pod: V1Pod): ContainerState[] {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));

  return (pod.spec?.containers ?? []).map((container) => {
    const status = statuses.get(container.name);
    const observed = observe(status);
    const { shouldMigrate, decision } = decide(observed.state, restartPolicy);

    return {
      name: container.name,
      ...observed,
      restart_count: status?.restartCount ?? 0,
      should_migrate: shouldMigrate,
      decision,
    };
  });
}

interface Observed {
  state: ContainerRunState;
  reason: string | null;
  exit_code: number | null;
}

function observe(status: V1ContainerStatus | undefined): Observed {
  const state = status?.state;

  if (state?.running) return { state: 'running', reason: null, exit_code: null };
  if (state?.terminated) {
    const exitCode = state.terminated.exitCode;
    return {
      state: exitCode === 0 ? 'completed' : 'failed',
      reason: state.terminated.reason ?? null,
      exit_code: exitCode,
    };
  }
  // No status yet, or waiting: the container has not done its work.
  return { state: 'waiting', reason: state?.waiting?.reason ?? 'NoStatusYet', exit_code: null };
}

function decide(
  state: ContainerRunState,
  restartPolicy: string,
): { shouldMigrate: boolean; decision: string } {
  switch (state) {
    case 'completed':
      return restartPolicy === 'Always'
        ? { shouldMigrate: true, decision: 'completed, but restartPolicy Always runs it again' }
        : {
            shouldMigrate: false,
            decision: `completed with exit code 0; restartPolicy ${restartPolicy} would not run it again`,
          };
    case 'failed':
      return { shouldMigrate: true, decision: 'failed; kept so that it runs again on the target' };
    case 'running':
      return { shouldMigrate: true, decision: 'still running' };
    case 'waiting':
      return {
        shouldMigrate: true,
        decision: 'has not run yet; kept so that it starts on the target',
      };
  }
}
