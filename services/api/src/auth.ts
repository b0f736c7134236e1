import type { Context, MiddlewareHandler } from 'hono';

import { ReadOnlyTokenError, UnauthenticatedError } from './access-errors.ts';
import type { ApiTokens } from './api-tokens.ts';
import type { ApiEnv } from './deps.ts';

/** Probes a kubelet or load balancer calls without credentials; they reveal nothing. */
const PUBLIC_PATHS = new Set(['/health', '/ready']);

/** What a read-only token may do: read. */
const READ_METHODS = new Set(['GET', 'HEAD']);

const BEARER = /^Bearer +(\S+) *$/i;

export function isPublicPath(c: Context<ApiEnv>): boolean {
  return PUBLIC_PATHS.has(c.req.path);
}

/**
 * Requires a configured bearer token on every route but the probes, and a
 * read-write one for anything but reads. The token itself is never logged: the
 * request logger learns only the name of the configuration entry it matched.
 */
export function bearerAuth(tokens: ApiTokens): MiddlewareHandler<ApiEnv> {
  return async function authenticate(c, next) {
    if (isPublicPath(c)) {
      await next();
      return;
    }

    const header = c.req.header('authorization');
    if (header === undefined || header.trim() === '') {
      throw new UnauthenticatedError('send a token in the header "Authorization: Bearer <token>"');
    }
    const presented = BEARER.exec(header)?.[1];
    const token = presented === undefined ? undefined : tokens.identify(presented);
    if (token === undefined) {
      throw new UnauthenticatedError('the bearer token is not valid', 'invalid_token');
    }

    c.set('token', token);
    c.set('log', c.get('log').child({ tokenName: token.name, access: token.access }));
    if (token.access === 'read-only' && !READ_METHODS.has(c.req.method)) {
      throw new ReadOnlyTokenError(c.req.method);
    }
    await next();
  };
}
