/**
 * One error hierarchy for the whole system. Every error carries a stable `code`
 * (used in problem documents and on failed migration records), the HTTP status
 * it maps to, and whether retrying the same step could ever succeed.
 */
export interface ErrorOptions {
  cause?: unknown;
}

export abstract class OrchestratorError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;

  /** A permanent error fails the migration at once instead of being retried. */
  readonly permanent: boolean = true;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

export interface FieldError {
  field: string;
  message: string;
}

export class ValidationError extends OrchestratorError {
  readonly code = 'invalid-request';
  readonly status = 400;
  readonly fields: FieldError[];

  constructor(message: string, fields: FieldError[]) {
    super(message);
    this.fields = fields;
  }
}

export class ConfigError extends OrchestratorError {
  readonly code = 'invalid-configuration';
  readonly status = 500;
}

export class MigrationNotFoundError extends OrchestratorError {
  readonly code = 'migration-not-found';
  readonly status = 404;

  constructor(migrationId: string) {
    super(`no migration with id ${migrationId}`);
  }
}

export class QueueUnavailableError extends OrchestratorError {
  readonly code = 'queue-unavailable';
  readonly status = 503;
  override readonly permanent = false;
}

export class PodNotFoundError extends OrchestratorError {
  readonly code = 'pod-not-found';
  readonly status = 404;

  constructor(namespace: string, name: string) {
    super(`pod ${namespace}/${name} does not exist`);
  }
}

export class PodNotOnSourceNodeError extends OrchestratorError {
  readonly code = 'pod-not-on-source-node';
  readonly status = 409;

  constructor(pod: string, sourceNode: string, actualNode: string | undefined) {
    const where = actualNode ? `runs on ${actualNode}` : 'is not scheduled on any node';
    super(`pod ${pod} ${where}, not on source_node ${sourceNode}; check the node and try again`);
  }
}

/** A request without source_node for a pod no node runs yet: there is nothing to move from. */
export class PodNotScheduledError extends OrchestratorError {
  readonly code = 'pod-not-scheduled';
  readonly status = 409;

  constructor(pod: string) {
    super(
      `pod ${pod} is not scheduled on any node yet, so it has no source node to move from; ` +
        'wait until it is placed, or name source_node',
    );
  }
}

export class PodTerminatingError extends OrchestratorError {
  readonly code = 'pod-terminating';
  readonly status = 409;

  constructor(pod: string) {
    super(`pod ${pod} is already being deleted; there is nothing left to move`);
  }
}

export class ControllerOwnedPodError extends OrchestratorError {
  readonly code = 'controller-owned-pod';
  readonly status = 422;

  constructor(pod: string, ownerKind: string, ownerName: string) {
    super(
      `pod ${pod} is managed by ${ownerKind} ${ownerName}; moving controller-owned pods is not ` +
        'supported yet, since the controller would replace the original behind our back',
    );
  }
}

export class NodeNotFoundError extends OrchestratorError {
  readonly code = 'target-node-not-found';
  readonly status = 422;

  constructor(node: string) {
    super(`target_node ${node} does not exist in the cluster`);
  }
}

export class NothingToMigrateError extends OrchestratorError {
  readonly code = 'nothing-to-migrate';
  readonly status = 422;

  constructor(pod: string) {
    super(
      `every container of pod ${pod} has completed and would not run again; ` +
        'there is nothing left to move',
    );
  }
}

export class NewPodNotReadyError extends OrchestratorError {
  readonly code = 'new-pod-not-ready';
  readonly status = 504;
}

export class DeadlineExceededError extends OrchestratorError {
  readonly code = 'deadline-exceeded';
  readonly status = 504;

  constructor(timeoutSeconds: number) {
    super(`the migration did not finish within its timeout of ${timeoutSeconds} s`);
  }
}

/** A Kubernetes API call that failed in a way that is worth retrying (5xx, 429, network). */
export class KubernetesUnavailableError extends OrchestratorError {
  readonly code = 'kubernetes-unavailable';
  readonly status = 503;
  override readonly permanent = false;
}

/** A Kubernetes API call that the server refused for good (403, 422, ...). */
export class KubernetesRequestError extends OrchestratorError {
  readonly code = 'kubernetes-request-rejected';
  readonly status = 502;
}

export class InvalidStagePayloadError extends OrchestratorError {
  readonly code = 'invalid-stage-payload';
  readonly status = 500;
}

/** Anything thrown that is not one of ours is treated as transient: a retry may help. */
export function isPermanent(error: unknown): boolean {
  return error instanceof OrchestratorError && error.permanent;
}

export class CheckpointClaimConflictError extends OrchestratorError {
  readonly code = 'checkpoint-claim-conflict';
  readonly status = 409;
}

export class NewPodNameConflictError extends OrchestratorError {
  readonly code = 'new-pod-name-conflict';
  readonly status = 409;

  constructor(namespace: string, name: string) {
    super(`a pod named ${namespace}/${name} already exists and was not created by this migration`);
  }
}

export class TargetNodeNotReadyError extends OrchestratorError {
  readonly code = 'target-node-not-ready';
  readonly status = 422;

  constructor(node: string, detail: string) {
    super(
      `target_node ${node} is not Ready (${detail}); ` +
        'pick another target or wait until the node reports Ready',
    );
  }
}

export class TargetNodeCordonedError extends OrchestratorError {
  readonly code = 'target-node-cordoned';
  readonly status = 422;

  constructor(node: string) {
    super(
      `target_node ${node} is cordoned (spec.unschedulable) and takes no new pods; ` +
        'pick another target or uncordon it first',
    );
  }
}

export class TargetTaintNotToleratedError extends OrchestratorError {
  readonly code = 'target-taint-not-tolerated';
  readonly status = 422;

  constructor(pod: string, node: string, taint: string) {
    super(
      `target_node ${node} has the taint ${taint}, which pod ${pod} does not tolerate; ` +
        'pick another target, remove the taint, or add a matching toleration to the workload',
    );
  }
}

export class InsufficientCapacityError extends OrchestratorError {
  readonly code = 'insufficient-capacity';
  readonly status = 422;

  /** @param shortfalls one entry per resource that does not fit, e.g. "cpu: requested 2, free 500m". */
  constructor(pod: string, node: string, shortfalls: string[]) {
    super(
      `pod ${pod} does not fit on target_node ${node} (${shortfalls.join('; ')}); ` +
        'pick a target with more free allocatable resources or free some up first',
    );
  }
}

export class VolumeCannotFollowError extends OrchestratorError {
  readonly code = 'volume-cannot-follow';
  readonly status = 422;

  constructor(pod: string, volume: string, node: string, why: string) {
    super(
      `volume ${volume} of pod ${pod} cannot follow it to target_node ${node}: ${why}; ` +
        'pick a target that can reach the volume, or move the data to storage every node can reach',
    );
  }
}

export class UnsupportedControllerError extends OrchestratorError {
  readonly code = 'unsupported-controller';
  readonly status = 422;

  constructor(pod: string, kind: string, name: string, why: string) {
    super(
      `pod ${pod} is managed by ${kind} ${name}, which migration does not support: ${why}; ` +
        'move it through its controller instead (for example with a node affinity on the workload)',
    );
  }
}

export class DisruptionBudgetBlockedError extends OrchestratorError {
  readonly code = 'disruption-budget-blocked';
  readonly status = 409;
}

export class MigrationInProgressError extends OrchestratorError {
  readonly code = 'migration-in-progress';
  readonly status = 409;
  readonly migrationId: string;

  constructor(pod: string, migrationId: string) {
    super(
      `pod ${pod} is already being migrated by migration ${migrationId}; ` +
        'wait for it to finish before starting another',
    );
    this.migrationId = migrationId;
  }
}

export class PayloadTooLargeError extends OrchestratorError {
  readonly code = 'payload-too-large';
  readonly status = 413;
}

export class UnsupportedMediaTypeError extends OrchestratorError {
  readonly code = 'unsupported-media-type';
  readonly status = 415;
}

/**
 * The client went away while its request was read: nobody gets the answer, and the
 * server did nothing wrong. 499 (nginx's code for it) keeps it out of the 5xx counts.
 */
export class ClientClosedRequestError extends OrchestratorError {
  readonly code = 'client-closed-request';
  readonly status = 499;
}

export class MigrationFinishedError extends OrchestratorError {
  readonly code = 'migration-finished';
  readonly status = 409;

  constructor(migrationId: string, status: string) {
    super(`migration ${migrationId} has already ended (${status}); there is nothing to cancel`);
  }
}

export class MigrationSwitchStartedError extends OrchestratorError {
  readonly code = 'migration-switch-started';
  readonly status = 409;

  constructor(migrationId: string) {
    super(
      `migration ${migrationId} has begun switching to the new pod; ` +
        'it can no longer be cancelled and will finish (or restore the original) by itself',
    );
  }
}

/** Raised inside a stage when an operator cancelled the migration; ends it as cancelled. */
export class MigrationCancelledError extends OrchestratorError {
  readonly code = 'migration-cancelled';
  readonly status = 409;

  constructor(migrationId: string) {
    super(`migration ${migrationId} was cancelled on request`);
  }
}

export class IdempotencyKeyReusedError extends OrchestratorError {
  readonly code = 'idempotency-key-reused';
  readonly status = 422;

  constructor(migrationId: string) {
    super(
      `this Idempotency-Key was already used for migration ${migrationId} with a different ` +
        'request body; use a new key for a new request',
    );
  }
}

/** A Redis that may evict keys would silently lose queued jobs and migration records. */
export class RedisEvictionPolicyError extends OrchestratorError {
  readonly code = 'redis-eviction-policy';
  readonly status = 500;

  constructor(server: string, policy: string | null) {
    const found =
      policy === null ? 'does not report its maxmemory-policy' : `runs maxmemory-policy ${policy}`;
    super(
      `Redis ${server} ${found}; only noeviction keeps queued jobs and migration records ` +
        'from being dropped when memory runs out. Set it with ' +
        '"CONFIG SET maxmemory-policy noeviction" (then CONFIG REWRITE), the redis.conf line ' +
        '"maxmemory-policy noeviction", or your provider\'s parameter group',
    );
  }
}

/** BullMQ failed a stage job whose worker died more often than allowed. */
export class WorkerLostError extends OrchestratorError {
  readonly code = 'worker-lost';
  readonly status = 500;

  constructor(stage: string, detail: string) {
    super(
      `the ${stage} stage lost its worker more often than WORKER_MAX_STALLED_COUNT allows ` +
        `(${detail}); see the workers' logs for why they died`,
    );
  }
}
