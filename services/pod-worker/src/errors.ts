import { OrchestratorError } from '@aso/shared';

/** The ReplicaSet did not take the new pod in place of the original. */
export class ReplicaSetHandoffError extends OrchestratorError {
  readonly code = 'replicaset-handoff-failed';
  readonly status = 409;
}

/** The original was still there after its removal, so its claims were never released. */
export class OriginalNotRemovedError extends OrchestratorError {
  readonly code = 'original-not-removed';
  readonly status = 504;
}

/**
 * A break-before-make switch failed after the original had gone, and the rollback
 * created the original again on the source node. The failure keeps the code and
 * status of its cause; the message adds that the original was restored.
 */
export class OriginalRestoredError extends OrchestratorError {
  readonly code: string;
  readonly status: number;

  constructor(cause: unknown, restored: string) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`${message}; rolled back: ${restored}`, { cause });
    this.code = cause instanceof OrchestratorError ? cause.code : 'internal-error';
    this.status = cause instanceof OrchestratorError ? cause.status : 500;
  }
}
