import { OrchestratorError } from '../errors.ts';

export class PolicyNotFoundError extends OrchestratorError {
  readonly code = 'policy-not-found';
  readonly status = 404;

  constructor(name: string) {
    super(`no policy named ${name}`);
  }
}

/** The deployment's policy file owns its policies: the API may read them, not change them. */
export class PolicyFromConfigurationError extends OrchestratorError {
  readonly code = 'policy-from-configuration';
  readonly status = 409;

  constructor(name: string) {
    super(
      `policy ${name} comes from the policy file (ASO_POLICIES_FILE); change or remove it ` +
        'there and restart the metrics workers, or choose another name',
    );
  }
}

/** Each policy costs a pod list and metric reads per evaluation: their number is bounded. */
export class TooManyPoliciesError extends OrchestratorError {
  readonly code = 'too-many-policies';
  readonly status = 422;

  constructor(limit: number) {
    super(`at most ${limit} load policies may be stored; delete one before creating another`);
  }
}
