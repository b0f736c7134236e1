import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { PodDirectives } from './annotations.ts';
import type { BackOffPolicy, ContainerPlan, RestartRule } from './container-timeline.ts';

/** Turns a container's spec and the pod's annotations into the plan its timeline replays. */
export interface KubeletTimings {
  backOff: BackOffPolicy;
  /** How long a classic init container runs when no exit annotation names it. */
  initContainerSeconds: number;
}

export interface PlanContext {
  pod: V1Pod;
  directives: PodDirectives;
  timings: KubeletTimings;
}

/** A native sidecar: an init container that keeps running beside the app containers. */
export function isSidecar(container: V1Container): boolean {
  return container.restartPolicy === 'Always';
}

export function podRestartRule(pod: V1Pod): RestartRule {
  const policy = pod.spec?.restartPolicy;
  return policy === 'OnFailure' || policy === 'Never' ? policy : 'Always';
}

export function planFor(
  context: PlanContext,
  name: string,
  startAt: number,
  restartRule: RestartRule,
): ContainerPlan {
  return {
    startAt,
    exit: context.directives.exits.get(name),
    blockedReason: context.directives.waiting.get(name),
    readyAfterMs: context.directives.readyAfterSeconds * 1000,
    restartRule,
    backOff: context.timings.backOff,
  };
}

/** App containers follow the pod's restartPolicy. */
export function appPlan(context: PlanContext, name: string, startAt: number): ContainerPlan {
  return planFor(context, name, startAt, podRestartRule(context.pod));
}

/** Sidecars restart on any exit, whatever the pod's policy. */
export function sidecarPlan(context: PlanContext, name: string, startAt: number): ContainerPlan {
  return planFor(context, name, startAt, 'Always');
}

/**
 * Classic init containers run to completion (after a short default run when no exit
 * annotation names them) and are retried on failure unless the pod's policy is Never.
 */
export function classicInitPlan(
  context: PlanContext,
  name: string,
  startAt: number,
): ContainerPlan {
  const rule = podRestartRule(context.pod) === 'Never' ? 'Never' : 'OnFailure';
  const plan = planFor(context, name, startAt, rule);
  const defaultExit = { exitCode: 0, afterSeconds: context.timings.initContainerSeconds };
  return { ...plan, exit: plan.exit ?? defaultExit };
}
