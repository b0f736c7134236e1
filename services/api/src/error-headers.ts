import { RateLimitedError, UnauthenticatedError } from './access-errors.ts';

/** Headers HTTP asks for beside some refusals: the Bearer challenge of a 401, Retry-After of a 429. */
export function errorHeaders(error: unknown): Record<string, string> {
  if (error instanceof UnauthenticatedError) {
    const challenge = error.challengeError ? `, error="${error.challengeError}"` : '';
    return { 'WWW-Authenticate': `Bearer realm="aso"${challenge}` };
  }
  if (error instanceof RateLimitedError) {
    return { 'Retry-After': String(error.retryAfterSeconds) };
  }
  return {};
}
