import { OrchestratorError } from '@aso/shared';

/** A board action whose Origin is not this API: someone else's page tried to act. */
export class CrossSiteRequestError extends OrchestratorError {
  readonly code = 'cross-site-request';
  readonly status = 403;

  constructor() {
    super('board actions are accepted only from the board itself (the Origin does not match)');
  }
}
