import { RateLimitedError, UnauthenticatedError } from './access-errors.ts';

/** Headers HTTP asks for beside some refusals: a 401's Bearer challenge, a 429's Retry-After. */
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
