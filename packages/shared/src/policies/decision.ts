import type { Policy } from './policy.ts';

/**
 * What a policy decided for one pod in one evaluation. A bounded set: it is also
 * the label of the decisions counter.
 */
export const POLICY_DECISIONS = [
  'below-threshold',
  'not-held-long-enough',
  'unmeasured',
  'not-running',
  'already-on-target',
  'pod-already-migrating',
  'in-cooldown',
  'max-in-flight',
  'refused-by-preflight',
  'would-migrate',
  'migration-started',
  'evaluation-failed',
  'policy-changed',
] as const;
export type PolicyDecision = (typeof POLICY_DECISIONS)[number];

/** One pod in one evaluation: what was seen, what was decided and why. */
export interface PodEvaluation {
  pod: string;
  node: string | null;
  /** Measured usage of the policy's metric, summed over the containers ("950m", "1Gi"). */
  usage: string | null;
  /** Since when usage has stayed above the threshold; null when it is not above. */
  above_since: string | null;
  decision: PolicyDecision;
  reason: string;
  migration_id?: string;
  target_node?: string;
  /** The pre-flight's refusal, for refused-by-preflight. */
  problem?: { code: string; detail: string };
}

/** One evaluation of one policy. */
export interface PolicyRun {
  evaluated_at: string;
  dry_run: boolean;
  pods: PodEvaluation[];
  /** Set when the policy could not be evaluated at all (the pods could not be listed). */
  error?: string;
}

/** Whether usage stays above the threshold, and since when. */
export interface HeldState {
  above: boolean;
  aboveSince: Date | null;
  held: boolean;
}

/** A pod's hold: since when it is above, and when an evaluation last saw it above. */
export interface Hold {
  since: Date;
  seen: Date;
}

/**
 * Usage strictly above the threshold starts (or continues) the hold; anything else
 * ends it. The hold counts once it has lasted `for_seconds`. A hold not seen for
 * longer than `maxGapMs` (evaluations stopped meanwhile) says nothing about the time
 * between: it starts over.
 */
export function heldState(
  policy: Pick<Policy, 'for_seconds'>,
  usage: number,
  threshold: number,
  previous: Hold | null,
  now: Date,
  maxGapMs = Infinity,
): HeldState {
  if (usage <= threshold) return { above: false, aboveSince: null, held: false };

  const fresh = previous !== null && now.getTime() - previous.seen.getTime() <= maxGapMs;
  const aboveSince = fresh ? previous.since : now;
  const held = now.getTime() - aboveSince.getTime() >= policy.for_seconds * 1000;
  return { above: true, aboveSince, held };
}

/** What stands between a held pod and a migration, known before the pre-flight runs. */
export interface Gates {
  podNode: string;
  /** The unfinished migration of this pod, if any. */
  activeMigrationId: string | null;
  /** When this policy last started a migration. */
  lastStartedAt: Date | null;
  /** Unfinished migrations this policy started. */
  inFlight: number;
  now: Date;
}

export type GateDecision =
  | { decision: 'eligible' }
  | { decision: Exclude<PolicyDecision, 'migration-started'>; reason: string };

/** The checks of a held pod, cheapest and most final first. */
export function gateHeldPod(
  policy: Pick<Policy, 'target_nodes' | 'cooldown_seconds' | 'max_in_flight'>,
  gates: Gates,
): GateDecision {
  if (gates.activeMigrationId !== null) {
    return {
      decision: 'pod-already-migrating',
      reason: `migration ${gates.activeMigrationId} of this pod is unfinished`,
    };
  }
  if (policy.target_nodes.includes(gates.podNode)) {
    return {
      decision: 'already-on-target',
      reason: `the pod runs on ${gates.podNode}, one of the policy's target nodes`,
    };
  }
  if (gates.lastStartedAt !== null) {
    const until = gates.lastStartedAt.getTime() + policy.cooldown_seconds * 1000;
    if (gates.now.getTime() < until) {
      return {
        decision: 'in-cooldown',
        reason:
          `the policy started a migration at ${gates.lastStartedAt.toISOString()}; ` +
          `it starts no other before ${new Date(until).toISOString()}`,
      };
    }
  }
  if (gates.inFlight >= policy.max_in_flight) {
    return {
      decision: 'max-in-flight',
      reason:
        `${gates.inFlight} of at most ${policy.max_in_flight} migrations ` +
        'of this policy are unfinished',
    };
  }
  return { decision: 'eligible' };
}

/** A migration a policy started, as the pod it made (its migration-id label) finds it. */
export interface PolicyMove {
  migration_id: string;
  policy: string;
  started_at: string;
}

/**
 * A pod a policy just moved is moved by no policy again for `cooldownSeconds`:
 * two policies with opposite targets would otherwise pass one pod back and forth.
 */
export function gateMovedPod(
  move: PolicyMove | null,
  cooldownSeconds: number,
  now: Date,
): GateDecision {
  if (move === null) return { decision: 'eligible' };
  const until = Date.parse(move.started_at) + cooldownSeconds * 1000;
  if (now.getTime() >= until) return { decision: 'eligible' };
  return {
    decision: 'in-cooldown',
    reason:
      `the pod was made by migration ${move.migration_id}, which policy ${move.policy} ` +
      `started at ${move.started_at}; no policy moves it again before ` +
      new Date(until).toISOString(),
  };
}
