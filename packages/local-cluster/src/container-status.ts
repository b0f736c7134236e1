import type { ContainerSnapshot, TerminatedRun } from './container-timeline.ts';
import { containerIdFor, imageIdFor, normalizeImage } from './image-reference.ts';
import type { ContainerStateDocument, ContainerStatusDocument } from './status-documents.ts';
import { formatApiTime } from './time.ts';

export interface ContainerIdentity {
  podUid: string;
  podName: string;
  namespace: string;
  name: string;
  image: string;
}

/** A container the kubelet has not started yet, or one replayed by the timeline. */
export type ContainerView =
  | { kind: 'not-started'; reason: string }
  | { kind: 'replayed'; snapshot: ContainerSnapshot; readyWhenCompleted: boolean };

function terminatedState(
  identity: ContainerIdentity,
  run: TerminatedRun,
  attempt: number,
): ContainerStateDocument {
  return {
    terminated: {
      exitCode: run.exitCode,
      reason: run.exitCode === 0 ? 'Completed' : 'Error',
      startedAt: formatApiTime(run.startedAt),
      finishedAt: formatApiTime(run.finishedAt),
      containerID: containerIdFor(identity.podUid, identity.name, attempt),
    },
  };
}

function backOffMessage(identity: ContainerIdentity, delayMs: number): string {
  const pod = `${identity.podName}_${identity.namespace}(${identity.podUid})`;
  return `back-off ${Math.round(delayMs / 1000)}s restarting failed container=${identity.name} pod=${pod}`;
}

function waitingMessage(identity: ContainerIdentity, reason: string): string | undefined {
  if (reason === 'ImagePullBackOff' || reason === 'ErrImagePull') {
    return `Back-off pulling image "${identity.image}"`;
  }

  return undefined;
}

function baseStatus(identity: ContainerIdentity): ContainerStatusDocument {
  return {
    name: identity.name,
    image: normalizeImage(identity.image),
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: {},
    lastState: {},
  };
}

function replayedStatus(
  identity: ContainerIdentity,
  view: Extract<ContainerView, { kind: 'replayed' }>,
  now: number,
): ContainerStatusDocument {
  const { phase, restartCount, lastTerminated } = view.snapshot;
  const status = { ...baseStatus(identity), restartCount };
  const pulled = { imageID: imageIdFor(identity.image) };
  const previousAttempt = phase.kind === 'backing-off' ? restartCount : restartCount - 1;
  const lastState =
    lastTerminated === undefined ? {} : terminatedState(identity, lastTerminated, previousAttempt);

  switch (phase.kind) {
    case 'blocked': {
      const message = waitingMessage(identity, phase.reason);
      const waiting =
        message === undefined ? { reason: phase.reason } : { reason: phase.reason, message };
      return { ...status, state: { waiting } };
    }
    case 'running':
      return {
        ...status,
        ...pulled,
        containerID: containerIdFor(identity.podUid, identity.name, restartCount),
        ready: now >= phase.readyAt,
        started: true,
        state: { running: { startedAt: formatApiTime(phase.startedAt) } },
        lastState,
      };
    case 'backing-off': {
      const waiting = {
        reason: 'CrashLoopBackOff',
        message: backOffMessage(identity, phase.delayMs),
      };
      return { ...status, ...pulled, state: { waiting }, lastState };
    }
    case 'finished':
      return {
        ...status,
        ...pulled,
        containerID: containerIdFor(identity.podUid, identity.name, restartCount),
        ready: view.readyWhenCompleted && phase.run.exitCode === 0,
        state: terminatedState(identity, phase.run, restartCount),
        lastState,
      };
  }
}

/** The core/v1 ContainerStatus a kubelet would report for this container at `now`. */
export function containerStatusDocument(
  identity: ContainerIdentity,
  view: ContainerView,
  now: number,
): ContainerStatusDocument {
  if (view.kind === 'not-started') {
    return { ...baseStatus(identity), state: { waiting: { reason: view.reason } } };
  }

  return replayedStatus(identity, view, now);
}
