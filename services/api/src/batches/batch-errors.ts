import { OrchestratorError, type FieldError } from '@aso/shared';

import type { BatchMember } from './batch-store.ts';

/** Refusals of batch and drain requests; only the gateway raises them. */

export class BatchNotFoundError extends OrchestratorError {
  readonly code = 'batch-not-found';
  readonly status = 404;

  constructor(batchId: string) {
    super(`no batch with id ${batchId}`);
  }
}

export class DrainNotFoundError extends OrchestratorError {
  readonly code = 'drain-not-found';
  readonly status = 404;

  constructor(drainId: string) {
    super(`no drain with id ${drainId}`);
  }
}

export class SelectorMatchedNothingError extends OrchestratorError {
  readonly code = 'selector-matched-nothing';
  readonly status = 422;

  constructor(namespace: string, selector: string) {
    super(
      `no pod in namespace ${namespace} matches the label selector ${selector}; ` +
        'check the labels (kubectl get pods -l ...) and the namespace',
    );
  }
}

export class BatchTooLargeError extends OrchestratorError {
  readonly code = 'batch-too-large';
  readonly status = 422;

  constructor(count: number, limit: number, what: string) {
    super(
      `${what} has ${count} pods, more than the ${limit} one batch may hold; ` +
        'narrow the selector or split the work into several batches',
    );
  }
}

export class DrainNodeNotFoundError extends OrchestratorError {
  readonly code = 'node-not-found';
  readonly status = 404;

  constructor(node: string) {
    super(`node ${node} does not exist in the cluster`);
  }
}

export class DrainInProgressError extends OrchestratorError {
  readonly code = 'drain-in-progress';
  readonly status = 409;
  readonly drainId: string;

  constructor(node: string, drainId: string) {
    super(`node ${node} is being drained by drain ${drainId}; wait for it to end or cancel it`);
    this.drainId = drainId;
  }
}

/** Every member was refused: nothing would run, so nothing is stored. */
export class BatchAllRefusedError extends OrchestratorError {
  readonly code = 'batch-all-refused';
  readonly status = 422;
  /** One entry per member: the pod, and its refusal's code and reason. */
  readonly fields: FieldError[];

  constructor(members: BatchMember[]) {
    const fields = members.map((m) => ({
      field: `${m.pod.namespace}/${m.pod.name}`,
      message: `${m.refused?.code ?? 'refused'}: ${m.refused?.detail ?? ''}`,
    }));
    super(
      `every one of the ${members.length} pods was refused, so no batch was started: ` +
        fields.map((f) => `${f.field} (${f.message})`).join('; '),
    );
    this.fields = fields;
  }
}

/** Every movable pod of a drained node was refused: nothing would move, so nothing is kept. */
export class DrainNothingStartedError extends OrchestratorError {
  readonly code = 'drain-nothing-started';
  readonly status = 422;
  /** One entry per pod: its refusal's code and reason. */
  readonly fields: FieldError[];

  constructor(node: string, members: BatchMember[]) {
    const fields = members.map((m) => ({
      field: `${m.pod.namespace}/${m.pod.name}`,
      message: `${m.refused?.code ?? 'refused'}: ${m.refused?.detail ?? ''}`,
    }));
    super(
      `none of the ${members.length} movable pods on ${node} could start, so the node was ` +
        'not drained (nor left cordoned by this request): ' +
        fields.map((f) => `${f.field} (${f.message})`).join('; '),
    );
    this.fields = fields;
  }
}
