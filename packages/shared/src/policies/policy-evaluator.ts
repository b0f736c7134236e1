import { randomUUID } from 'node:crypto';

import type { V1Pod } from '@kubernetes/client-node';

import { MigrationInProgressError, OrchestratorError } from '../errors.ts';
import { LABEL_MIGRATION_ID } from '../migration-ownership.ts';
import { kubernetesError, type KubeClients } from '../kube.ts';
import type { Logger } from '../logger.ts';
import { isFinished } from '../migration.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../migration-request.ts';
import type { MigrationStore } from '../migration-store.ts';
import { submitMigration, type SubmissionDeps } from '../migration-submission.ts';
import { readPodUsage } from '../pod-metrics.ts';
import { formatBytes, formatMillicores } from '../quantity.ts';
import {
  gateHeldPod,
  gateMovedPod,
  heldState,
  type Hold,
  type PodEvaluation,
  type PolicyDecision,
  type PolicyRun,
} from './decision.ts';
import { labelSelectorOf, type StoredPolicy } from './policy.ts';
import type { PolicyMetrics } from './policy-metrics.ts';
import type { PolicyStore } from './policy-store.ts';
import { choosePolicyTarget, withPolicyPlacement, type TargetRefusal } from './policy-target.ts';
import { thresholdForPod } from './threshold.ts';

export interface PolicyEvaluatorDeps {
  kube: KubeClients;
  policies: PolicyStore;
  /** Starting a migration: the same pre-flight, store and queue as the gateway's. */
  submission: SubmissionDeps & { store: MigrationStore };
  metrics: PolicyMetrics;
  logger: Logger;
  now: () => Date;
  /** The evaluation interval: a hold not seen for a few of them starts over. */
  intervalSeconds?: number;
  /** How long a pod a policy moved is moved by no policy again (default 600). */
  podCooldownSeconds?: number;
}

export const DEFAULT_POD_COOLDOWN_SECONDS = 600;

/**
 * A pod last seen above longer ago than this many intervals (evaluations stopped:
 * no worker, a held lease) starts its hold over; the half keeps a late job in.
 */
export const HOLD_GAP_INTERVALS = 2.5;

/** What one policy knows while it goes through its pods in one evaluation. */
interface PolicyPass {
  policy: StoredPolicy;
  now: Date;
  previousAbove: Map<string, Hold>;
  nextAbove: Map<string, Hold>;
  lastStartedAt: Date | null;
  inFlight: number;
  /** Pods this evaluation sent (or would send) to each target: their room is taken. */
  placed: Map<string, V1Pod[]>;
}

/** Evaluates every stored policy once; one policy's failure does not stop the others. */
export async function evaluatePolicies(deps: PolicyEvaluatorDeps): Promise<PolicyRun[]> {
  const runs: PolicyRun[] = [];
  for (const policy of await deps.policies.list()) {
    runs.push(await evaluatePolicy(deps, policy));
  }
  return runs;
}

export async function evaluatePolicy(
  deps: PolicyEvaluatorDeps,
  policy: StoredPolicy,
): Promise<PolicyRun> {
  const now = deps.now();
  const run: PolicyRun = { evaluated_at: now.toISOString(), dry_run: policy.dry_run, pods: [] };

  let pods: V1Pod[];
  try {
    pods = await listMatchingPods(deps.kube, policy);
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
    deps.logger.warn({ err: error, policy: policy.name }, 'policy pods could not be listed');
    await deps.policies.recordRun(policy.name, run);
    return run;
  }

  const pass = await startPass(deps, policy, now);
  for (const pod of pods) {
    const evaluation = await evaluatePod(deps, pass, pod);
    deps.metrics.countDecision(evaluation.decision);
    run.pods.push(evaluation);
  }

  // A policy deleted while it was evaluated leaves no state behind (the store's
  // scripts refuse the writes), and one replaced meanwhile keeps its own holds.
  await deps.policies.setAboveSince(policy.name, pass.nextAbove, policy.updated_at);
  await deps.policies.recordRun(policy.name, run);
  return run;
}

async function startPass(
  deps: PolicyEvaluatorDeps,
  policy: StoredPolicy,
  now: Date,
): Promise<PolicyPass> {
  const starts = await deps.policies.starts(policy.name);
  const records = await Promise.all(
    starts.map((start) => deps.submission.store.get(start.migration_id)),
  );
  // An expired record ended long ago: only records still unfinished hold a place.
  const inFlight = records.filter((record) => record !== null && !isFinished(record)).length;

  return {
    policy,
    now,
    previousAbove: await deps.policies.aboveSince(policy.name),
    nextAbove: new Map(),
    lastStartedAt: starts[0] ? new Date(starts[0].started_at) : null,
    inFlight,
    placed: new Map(),
  };
}

async function listMatchingPods(kube: KubeClients, policy: StoredPolicy): Promise<V1Pod[]> {
  try {
    const list = await kube.core.listNamespacedPod({
      namespace: policy.namespace,
      labelSelector: labelSelectorOf(policy),
    });
    return list.items.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  } catch (error) {
    throw kubernetesError(error, `listing the pods of policy ${policy.name}`);
  }
}

async function evaluatePod(
  deps: PolicyEvaluatorDeps,
  pass: PolicyPass,
  pod: V1Pod,
): Promise<PodEvaluation> {
  const name = nameOf(pod);
  const node = pod.spec?.nodeName ?? null;
  const base = { pod: name, node, usage: null, above_since: null };

  if (node === null || pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) {
    return { ...base, decision: 'not-running', reason: notRunningReason(pod) };
  }

  let measured: Awaited<ReturnType<typeof readPodUsage>>;
  try {
    measured = await readPodUsage(deps.kube.customObjects, pass.policy.namespace, name);
  } catch (error) {
    // A failed read says nothing about the pod: its hold, if any, carries on.
    const hold = pass.previousAbove.get(name);
    if (hold) pass.nextAbove.set(name, hold);
    return failed(base, hold?.since ?? null, error);
  }
  if (measured.status === 'unmeasured') {
    return { ...base, decision: 'unmeasured', reason: measured.reason };
  }

  const value = pass.policy.metric === 'cpu' ? measured.cpu_millicores : measured.memory_bytes;
  return judgeUsage(deps, pass, pod, value);
}

/** Compares a measured pod with the threshold, keeps its hold, and acts once it is held. */
async function judgeUsage(
  deps: PolicyEvaluatorDeps,
  pass: PolicyPass,
  pod: V1Pod,
  value: number,
): Promise<PodEvaluation> {
  const { metric } = pass.policy;
  const name = nameOf(pod);
  const node = pod.spec?.nodeName ?? '';
  const usage = metric === 'cpu' ? formatMillicores(value) : formatBytes(value);
  const base = { pod: name, node, usage, above_since: null };
  const threshold = thresholdForPod(pass.policy, pod);
  if ('unavailable' in threshold) {
    return { ...base, decision: 'unmeasured', reason: threshold.unavailable };
  }

  const previous = pass.previousAbove.get(name) ?? null;
  const maxGapMs = HOLD_GAP_INTERVALS * (deps.intervalSeconds ?? Infinity) * 1000;
  const state = heldState(pass.policy, value, threshold.value, previous, pass.now, maxGapMs);
  if (state.aboveSince) pass.nextAbove.set(name, { since: state.aboveSince, seen: pass.now });
  const seen = { ...base, above_since: state.aboveSince?.toISOString() ?? null };

  if (!state.above) {
    return {
      ...seen,
      decision: 'below-threshold',
      reason: `${metric} usage ${usage} is not above the threshold ${threshold.text}`,
    };
  }
  if (!state.held) {
    return {
      ...seen,
      decision: 'not-held-long-enough',
      reason:
        `${metric} usage ${usage} is above ${threshold.text}, ` +
        `but not yet for ${pass.policy.for_seconds} s`,
    };
  }
  return actOnHeldPod(deps, pass, seen, pod, node);
}

type Seen = Omit<PodEvaluation, 'decision' | 'reason'>;

async function actOnHeldPod(
  deps: PolicyEvaluatorDeps,
  pass: PolicyPass,
  seen: Seen,
  pod: V1Pod,
  node: string,
): Promise<PodEvaluation> {
  const { policy } = pass;
  const active = await deps.submission.store.activeMigration(policy.namespace, seen.pod);
  const gate = gateHeldPod(policy, {
    podNode: node,
    activeMigrationId: active?.migration_id ?? null,
    lastStartedAt: pass.lastStartedAt,
    inFlight: pass.inFlight,
    now: pass.now,
  });
  if (gate.decision !== 'eligible') {
    const migration = active ? { migration_id: active.migration_id } : {};
    return { ...seen, ...migration, decision: gate.decision, reason: gate.reason };
  }
  const moved = await movedByPolicy(deps, pass, pod);
  if (moved !== null) return { ...seen, ...moved };

  try {
    const choice = await choosePolicyTarget(deps.kube, pod, policy.target_nodes, pass.placed);
    if (!choice.fits) return refusedEverywhere(seen, choice.refusals);
    if (policy.dry_run) {
      // The same pre-flight a real start would meet; a refusal throws.
      await deps.submission.planner(requestFor(policy, seen.pod, node, choice.node));
      // Counted as a start would be, so that the rest of this run reports what a live
      // one would do: later pods meet the cooldown and max_in_flight.
      countStart(pass, pod, choice.node);
      return {
        ...seen,
        decision: 'would-migrate',
        target_node: choice.node,
        reason: `dry run: would migrate the pod from ${node} to ${choice.node}`,
      };
    }
    return await start(deps, pass, seen, pod, choice.node);
  } catch (error) {
    return answerToFailure(seen, error);
  }
}

/** The cooldown of a pod a policy (this or another) made, whatever policy looks at it now. */
async function movedByPolicy(deps: PolicyEvaluatorDeps, pass: PolicyPass, pod: V1Pod) {
  const madeBy = pod.metadata?.labels?.[LABEL_MIGRATION_ID];
  if (madeBy === undefined) return null;

  const move = await deps.policies.move(madeBy);
  const cooldown = deps.podCooldownSeconds ?? DEFAULT_POD_COOLDOWN_SECONDS;
  const gate = gateMovedPod(move, cooldown, pass.now);
  if (gate.decision === 'eligible') return null;
  return { migration_id: madeBy, decision: gate.decision, reason: gate.reason };
}

async function start(
  deps: PolicyEvaluatorDeps,
  pass: PolicyPass,
  seen: Seen,
  pod: V1Pod,
  target: string,
): Promise<PodEvaluation> {
  const { policy } = pass;
  const source = pod.spec?.nodeName ?? '';
  const migrationId = (deps.submission.newId ?? randomUUID)();
  const claim = { migration_id: migrationId, pod: seen.pod, started_at: pass.now.toISOString() };

  // The start is recorded first, atomically with checking that the policy still
  // stands as evaluated: a DELETE or replace answered meanwhile starts nothing.
  if (!(await deps.policies.claimStart(policy.name, policy.updated_at, claim))) {
    return {
      ...seen,
      decision: 'policy-changed',
      reason: 'the policy was deleted or replaced during this evaluation: nothing was started',
    };
  }
  const move = { migration_id: migrationId, policy: policy.name, started_at: claim.started_at };
  await deps.policies.recordMove(move, deps.podCooldownSeconds ?? DEFAULT_POD_COOLDOWN_SECONDS);
  try {
    await submitMigration(
      { ...deps.submission, newId: () => migrationId },
      requestFor(policy, seen.pod, source, target),
    );
  } catch (error) {
    await deps.policies.withdrawStart(policy.name, claim);
    throw error;
  }

  countStart(pass, pod, target);
  deps.metrics.countMigrationStarted();
  deps.logger.info(
    { policy: policy.name, pod: seen.pod, migrationId, source, target },
    'policy started a migration',
  );

  return {
    ...seen,
    decision: 'migration-started',
    migration_id: migrationId,
    target_node: target,
    reason:
      `usage held above ${policy.threshold} for ${policy.for_seconds} s: ` +
      `migrating from ${source} to ${target}`,
  };
}

/** The cooldown, the count in flight and the room taken apply to the rest of this pass too. */
function countStart(pass: PolicyPass, pod: V1Pod, target: string): void {
  pass.lastStartedAt = pass.now;
  pass.inFlight += 1;
  pass.placed = withPolicyPlacement(pass.placed, target, pod);
}

function requestFor(policy: StoredPolicy, pod: string, source: string, target: string) {
  return {
    pod_name: pod,
    pod_namespace: policy.namespace,
    source_node: source,
    target_node: target,
    preserve_pv: policy.preserve_pv,
    dry_run: false,
    force: false,
    timeout: DEFAULT_TIMEOUT_SECONDS,
  };
}

function refusedEverywhere(seen: Seen, refusals: TargetRefusal[]): PodEvaluation {
  const first = refusals[0];
  const problem = first
    ? { code: first.code, detail: first.detail }
    : { code: 'no-target-node', detail: 'every target node is the node the pod runs on' };
  const nodes = refusals.map((r) => `${r.node}: ${r.code}`).join('; ');
  return {
    ...seen,
    decision: 'refused-by-preflight',
    problem,
    reason: nodes === '' ? problem.detail : `no target node accepts the pod (${nodes})`,
  };
}

/** A 409 of the store's pod lock or a pre-flight refusal is a decision, not a failure. */
function answerToFailure(seen: Seen, error: unknown): PodEvaluation {
  if (error instanceof MigrationInProgressError) {
    return {
      ...seen,
      decision: 'pod-already-migrating',
      migration_id: error.migrationId,
      reason: error.message,
    };
  }
  if (error instanceof OrchestratorError && error.permanent) {
    return {
      ...seen,
      decision: 'refused-by-preflight',
      problem: { code: error.code, detail: error.message },
      reason: `the pre-flight refused the migration: ${error.code}`,
    };
  }
  return failed(seen, seen.above_since === null ? null : new Date(seen.above_since), error);
}

function failed(seen: Seen, since: Date | null, error: unknown): PodEvaluation {
  const message = error instanceof Error ? error.message : String(error);
  return {
    ...seen,
    above_since: since?.toISOString() ?? null,
    decision: 'evaluation-failed' satisfies PolicyDecision,
    reason: `could not be evaluated this time: ${message}`,
  };
}

function notRunningReason(pod: V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'the pod is being deleted';
  if (!pod.spec?.nodeName) return 'the pod is not scheduled on a node yet';
  return `the pod is ${pod.status?.phase ?? 'in an unknown phase'}, not Running`;
}

function nameOf(pod: V1Pod): string {
  return pod.metadata?.name ?? '';
}
