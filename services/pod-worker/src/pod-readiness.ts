import type { V1Pod } from '@kubernetes/client-node';

import { NewPodNotReadyError } from '@aso/shared';

import type { Judge } from './pod-watch.ts';

/** Tracks why a pod is not Ready yet, for the message when the wait gives up. */
export interface ReadinessTracker {
  judge: Judge<V1Pod>;
  lastReason(): string;
}

/**
 * Judges a new pod as the kubelet and scheduler report it: Ready when its Ready
 * condition is True; failed for good when it is gone or has ended (Succeeded or
 * Failed, so it will never become Ready); otherwise still waiting.
 */
export function trackReadiness(podName: string, what = 'new pod'): ReadinessTracker {
  let reason = 'no status reported yet';

  const judge: Judge<V1Pod> = (pod) => {
    if (!pod)
      return {
        fail: new NewPodNotReadyError(`${what} ${podName} was deleted before it became Ready`),
      };

    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return { done: pod };

    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      return {
        fail: new NewPodNotReadyError(`${what} ${podName} ended (${phase}): ${describe(pod)}`),
      };
    }
    reason = describe(pod);
    return null;
  };

  return { judge, lastReason: () => reason };
}

/** The most telling reason a pod is not Ready: scheduling first, then containers. */
export function describe(pod: V1Pod): string {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return `not scheduled: ${scheduled.message ?? scheduled.reason ?? 'unknown reason'}`;
  }

  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (waiting) return `container ${status.name} waiting: ${waiting.reason ?? 'unknown reason'}`;
    const terminated = status.state?.terminated;
    if (terminated) return `container ${status.name} exited with code ${terminated.exitCode}`;
    if (!status.ready) return `container ${status.name} running but not ready`;
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.reason) return `phase ${pod.status?.phase ?? 'unknown'}, not Ready: ${ready.reason}`;
  return `phase ${pod.status?.phase ?? 'unknown'}`;
}
