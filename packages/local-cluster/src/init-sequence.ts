import type { ContainerPlan, ContainerSnapshot } from './container-timeline.ts';
import { containerSnapshotAt } from './container-timeline.ts';
import type { PlanContext } from './container-plans.ts';
import { classicInitPlan, isSidecar, sidecarPlan } from './container-plans.ts';

/**
 * Runs init containers in order (https://kubernetes.io/docs/concepts/workloads/pods/init-containers/):
 * a classic one must complete before the next starts; a sidecar (restartPolicy Always)
 * only has to start, then keeps running beside the rest.
 */
export interface InitSequence {
  /** Snapshots of the classic init containers reached so far (and of a blocked sidecar). */
  snapshots: Map<string, ContainerSnapshot>;
  /** Started sidecars; their state depends on when the pod ends, so it is replayed later. */
  sidecarPlans: Map<string, ContainerPlan>;
  /** When the last init container completed: the app containers start then. */
  completedAt: number | undefined;
  /** When a classic init container failed for good (restartPolicy Never). */
  failedAt: number | undefined;
  /** Init containers not yet done, for the Initialized condition's message. */
  incomplete: string[];
  nextChangeAt: number | undefined;
}

function emptySequence(): InitSequence {
  return {
    snapshots: new Map(),
    sidecarPlans: new Map(),
    completedAt: undefined,
    failedAt: undefined,
    incomplete: [],
    nextChangeAt: undefined,
  };
}

export function runInitSequence(
  context: PlanContext,
  sandboxReadyAt: number,
  now: number,
): InitSequence {
  const initContainers = context.pod.spec?.initContainers ?? [];
  const sequence = emptySequence();
  let startAt = sandboxReadyAt;

  for (const [index, container] of initContainers.entries()) {
    const sidecar = isSidecar(container);
    const plan = sidecar
      ? sidecarPlan(context, container.name, startAt)
      : classicInitPlan(context, container.name, startAt);
    const snapshot = containerSnapshotAt(plan, now);
    const { phase } = snapshot;

    if (sidecar && phase.kind !== 'blocked') {
      sequence.sidecarPlans.set(container.name, plan);
      continue;
    }

    sequence.snapshots.set(container.name, snapshot);
    if (phase.kind === 'finished' && phase.run.exitCode === 0) {
      startAt = phase.run.finishedAt;
      continue;
    }

    sequence.failedAt = phase.kind === 'finished' ? phase.run.finishedAt : undefined;
    sequence.nextChangeAt = snapshot.nextChangeAt;
    sequence.incomplete = initContainers.slice(index).map((entry) => entry.name);
    return sequence;
  }

  sequence.completedAt = startAt;
  return sequence;
}
