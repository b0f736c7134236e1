import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';

import { UnauthenticatedError } from '../access-errors.ts';
import type { ApiToken, ApiTokens } from '../api-tokens.ts';
import type { ApiEnv } from '../deps.ts';
import { CrossSiteRequestError } from './admin-errors.ts';
import { OPENAPI_PATH, REFERENCE_PATH } from '../routes/docs.ts';
import { QUEUE_BOARD_PATH } from './queue-board.ts';
import { ADMIN_SESSION_COOKIE, verifyAdminSession } from './session-cookie.ts';

export function isQueueBoardPath(path: string): boolean {
  return path === QUEUE_BOARD_PATH || path.startsWith(`${QUEUE_BOARD_PATH}/`);
}

/**
 * Paths where a browser may present the session cookie instead of a bearer header:
 * the pages an operator opens, never the API's own routes.
 */
export function acceptsBoardSession(path: string): boolean {
  return isQueueBoardPath(path) || path === REFERENCE_PATH || path === OPENAPI_PATH;
}

/**
 * The token behind the board's session cookie. A write must come from a page of
 * this origin: SameSite=Strict already keeps other sites' requests cookieless, and
 * the Origin check holds even for a browser that ignores SameSite.
 */
export function boardSessionToken(c: Context<ApiEnv>, tokens: ApiTokens): ApiToken {
  const value = getCookie(c, ADMIN_SESSION_COOKIE);
  if (value === undefined) {
    throw new UnauthenticatedError(
      'sign in at /admin, or send a token in the header "Authorization: Bearer <token>"',
    );
  }

  const token = verifyAdminSession(tokens, value, new Date());
  if (token === undefined) {
    throw new UnauthenticatedError(
      'the session has expired or is not valid; sign in again at /admin',
      'invalid_token',
    );
  }

  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && !sameHost(c)) {
    throw new CrossSiteRequestError();
  }
  return token;
}

/** Hosts, not schemes, are compared: behind a TLS proxy the API itself sees http. */
function sameHost(c: Context<ApiEnv>): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined || !URL.canParse(origin)) return false;
  return new URL(origin).host === new URL(c.req.url).host;
}
