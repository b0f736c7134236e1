import type { ExitDirective } from './annotations.ts';

/**
 * The life of one container as a pure function of its plan and the clock: which run it is
 * in, whether it is running, backing off, or finished for good. The kubelet's rules
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy):
 * Always restarts any exit, OnFailure only non-zero exits, Never nothing; each restart
 * waits an exponentially growing, capped back-off, shown as CrashLoopBackOff.
 */
export type RestartRule = 'Always' | 'OnFailure' | 'Never';

export interface BackOffPolicy {
  initialMs: number;
  maxMs: number;
}

export interface ContainerPlan {
  startAt: number;
  exit: ExitDirective | undefined;
  /** A reason that keeps the container from ever starting (e.g. ImagePullBackOff). */
  blockedReason: string | undefined;
  readyAfterMs: number;
  restartRule: RestartRule;
  backOff: BackOffPolicy;
}

export interface TerminatedRun {
  startedAt: number;
  finishedAt: number;
  exitCode: number;
}

export type ContainerPhase =
  | { kind: 'blocked'; reason: string }
  | { kind: 'running'; startedAt: number; readyAt: number }
  | { kind: 'backing-off'; delayMs: number }
  | { kind: 'finished'; run: TerminatedRun };

export interface ContainerSnapshot {
  phase: ContainerPhase;
  restartCount: number;
  lastTerminated: TerminatedRun | undefined;
  /** When this snapshot will change next without outside input; undefined if never. */
  nextChangeAt: number | undefined;
}

export function backOffDelay(policy: BackOffPolicy, restartNumber: number): number {
  return Math.min(policy.initialMs * 2 ** (restartNumber - 1), policy.maxMs);
}

export function restartsAfter(rule: RestartRule, exitCode: number): boolean {
  return rule === 'Always' || (rule === 'OnFailure' && exitCode !== 0);
}

function runningSnapshot(
  plan: ContainerPlan,
  startedAt: number,
  now: number,
  history: Pick<ContainerSnapshot, 'restartCount' | 'lastTerminated'>,
): ContainerSnapshot {
  const readyAt = startedAt + plan.readyAfterMs;
  const exitAt = plan.exit === undefined ? undefined : startedAt + plan.exit.afterSeconds * 1000;
  const upcoming = [readyAt, exitAt].filter((at): at is number => at !== undefined && at > now);

  return {
    ...history,
    phase: { kind: 'running', startedAt, readyAt },
    nextChangeAt: upcoming.length === 0 ? undefined : Math.min(...upcoming),
  };
}

/** Replays the container's runs from its first start up to `now`. Requires now >= startAt. */
export function containerSnapshotAt(plan: ContainerPlan, now: number): ContainerSnapshot {
  if (plan.blockedReason !== undefined) {
    const phase = { kind: 'blocked' as const, reason: plan.blockedReason };
    return { phase, restartCount: 0, lastTerminated: undefined, nextChangeAt: undefined };
  }

  let startedAt = plan.startAt;
  let restartCount = 0;
  let lastTerminated: TerminatedRun | undefined;

  for (;;) {
    const exit = plan.exit;
    const finishedAt = exit === undefined ? Infinity : startedAt + exit.afterSeconds * 1000;
    if (exit === undefined || now < finishedAt) {
      return runningSnapshot(plan, startedAt, now, { restartCount, lastTerminated });
    }

    const run = { startedAt, finishedAt, exitCode: exit.exitCode };
    if (!restartsAfter(plan.restartRule, exit.exitCode)) {
      return {
        phase: { kind: 'finished', run },
        restartCount,
        lastTerminated,
        nextChangeAt: undefined,
      };
    }

    const delayMs = backOffDelay(plan.backOff, restartCount + 1);
    if (now < finishedAt + delayMs) {
      const phase = { kind: 'backing-off' as const, delayMs };
      return { phase, restartCount, lastTerminated: run, nextChangeAt: finishedAt + delayMs };
    }

    restartCount += 1;
    lastTerminated = run;
    startedAt = finishedAt + delayMs;
  }
}
