import { OrchestratorError } from '@aso/shared';

/**
 * Refusals of the gateway's access controls. Only the HTTP layer raises them, so
 * they live here rather than beside the errors of the migration stages.
 */

/** No bearer token, or one that is not configured: 401 with a Bearer challenge. */
export class UnauthenticatedError extends OrchestratorError {
  readonly code = 'unauthenticated';
  readonly status = 401;
  /** RFC 6750 error code for the WWW-Authenticate challenge, when a token was sent. */
  readonly challengeError: 'invalid_token' | undefined;

  constructor(message: string, challengeError?: 'invalid_token') {
    super(message);
    this.challengeError = challengeError;
  }
}

export class ReadOnlyTokenError extends OrchestratorError {
  readonly code = 'read-only-token';
  readonly status = 403;

  constructor(method: string) {
    super(`this token is read-only; ${method} needs a read-write token`);
  }
}

export class NamespaceNotAllowedError extends OrchestratorError {
  readonly code = 'namespace-not-allowed';
  readonly status = 403;

  constructor(namespace: string) {
    super(
      `migrations in namespace ${namespace} are not allowed by this installation ` +
        '(ASO_ALLOWED_NAMESPACES); ask its operator to add the namespace',
    );
  }
}

export class RateLimitedError extends OrchestratorError {
  readonly code = 'rate-limited';
  readonly status = 429;
  override readonly permanent = false;
  readonly retryAfterSeconds: number;

  constructor(limitPerMinute: number, retryAfterSeconds: number) {
    super(
      `this token has used its ${limitPerMinute} requests a minute; ` +
        `retry in ${retryAfterSeconds} s`,
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
