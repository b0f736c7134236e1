import type { Context, MiddlewareHandler } from 'hono';

import { ReadOnlyTokenError, UnauthenticatedError } from './access-errors.ts';
import { acceptsBoardSession, boardSessionToken } from './admin/board-session.ts';
import { QUEUE_BOARD_STATIC_PATH } from './admin/queue-board.ts';
import type { ApiToken, ApiTokens } from './api-tokens.ts';
import type { ApiEnv } from './deps.ts';
import { logAbout } from './request-log.ts';

/**
 * Probes a kubelet or load balancer calls without credentials, and the operator
 * sign-in page: they reveal nothing of a deployment.
 */
const PUBLIC_PATHS = new Set(['/health', '/ready', '/admin']);

/** What a read-only token may do: read. */
const READ_METHODS = new Set(['GET', 'HEAD']);

const BEARER = /^Bearer +(\S+) *$/i;

export function isPublicPath(c: Context<ApiEnv>): boolean {
  const { path, method } = c.req;
  if (PUBLIC_PATHS.has(path)) return true;
  // Bull Board's scripts and styles, the same in every installation; and signing out.
  if (path.startsWith(QUEUE_BOARD_STATIC_PATH)) return READ_METHODS.has(method);
  return path === '/admin/session' && method === 'DELETE';
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
    // A browser cannot send a header when it navigates: Bull Board takes a session cookie.
    const token =
      header === undefined && acceptsBoardSession(c.req.path)
        ? boardSessionToken(c, tokens)
        : bearerToken(header, tokens);

    c.set('token', token);
    logAbout(c, { tokenName: token.name, access: token.access });
    // Opening a board session changes nothing: a read-only token gets a read-only board.
    const sessionExchange = c.req.path === '/admin/session' && c.req.method === 'POST';
    if (token.access === 'read-only' && !READ_METHODS.has(c.req.method) && !sessionExchange) {
      throw new ReadOnlyTokenError(c.req.method);
    }
    await next();
  };
}

function bearerToken(header: string | undefined, tokens: ApiTokens): ApiToken {
  if (header === undefined || header.trim() === '') {
    throw new UnauthenticatedError('send a token in the header "Authorization: Bearer <token>"');
  }
  const presented = BEARER.exec(header)?.[1];
  const token = presented === undefined ? undefined : tokens.identify(presented);
  if (token === undefined) {
    throw new UnauthenticatedError('the bearer token is not valid', 'invalid_token');
  }
  return token;
}
