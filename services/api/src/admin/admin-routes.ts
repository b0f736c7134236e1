import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';

import type { StageQueues } from '@aso/shared';

import type { ApiToken } from '../api-tokens.ts';
import type { ApiEnv } from '../deps.ts';
import { requestLog } from '../request-log.ts';
import { loginPage } from './login-page.ts';
import { createQueueBoards, QUEUE_BOARD_PATH, type QueueBoards } from './queue-board.ts';
import { ADMIN_SESSION_COOKIE, issueAdminSession } from './session-cookie.ts';

/**
 * Bull Board pages are served only to this origin, and may reach nothing else: the
 * board stays usable offline and cannot leak job data to a third party.
 */
const BOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/** Bull Board's page asks Google for a web font; the board is fine without it. */
const REMOTE_FONT_LINK = /<link[^>]+fonts\.googleapis\.com[^>]*>\s*/g;

/** The operator UIs: the sign-in page, the session cookie, and Bull Board. */
export function adminRoutes(queues: StageQueues, now: () => Date): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const boards = createQueueBoards(queues);

  routes.get('/admin', function adminLogin(c) {
    return c.html(loginPage(QUEUE_BOARD_PATH));
  });

  routes.post('/admin/session', function openAdminSession(c) {
    const token = c.get('token');
    const session = issueAdminSession(token, now());
    // Path "/": the API reference, outside /admin, takes the session too. Routes that
    // change anything never accept the cookie (see acceptsBoardSession).
    setCookie(c, ADMIN_SESSION_COOKIE, session.value, {
      path: '/',
      httpOnly: true,
      sameSite: 'Strict',
      secure: isHttps(c),
      expires: session.expiresAt,
    });

    // The request's log already names the token and its access.
    requestLog(c).info('admin session opened');
    return c.json({ access: token.access, expires_at: session.expiresAt.toISOString() });
  });

  routes.delete('/admin/session', function closeAdminSession(c) {
    deleteCookie(c, ADMIN_SESSION_COOKIE, { path: '/', secure: isHttps(c) });
    return c.body(null, 204);
  });

  routes.all(QUEUE_BOARD_PATH, serveBoard(boards));
  routes.all(`${QUEUE_BOARD_PATH}/*`, serveBoard(boards));
  return routes;
}

function serveBoard(boards: QueueBoards) {
  return async function queueBoard(c: Context<ApiEnv>): Promise<Response> {
    // Writes by read-only tokens are refused before this (auth.ts); their board also
    // hides the buttons, so that nobody is offered an action that will fail.
    // Static files are public (no token): they are the same on either board.
    const token = c.get('token') as ApiToken | undefined;
    const board = token?.access === 'read-only' ? boards.readOnly : boards.readWrite;
    const response = await board.fetch(c.req.raw);

    if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) return response;
    const page = (await response.text()).replace(REMOTE_FONT_LINK, '');
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.set('content-security-policy', BOARD_CSP);
    return new Response(page, { status: response.status, headers });
  };
}

/** Behind a TLS-terminating proxy the scheme arrives as X-Forwarded-Proto. */
function isHttps(c: Context<ApiEnv>): boolean {
  const forwarded = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim();
  return (forwarded ?? new URL(c.req.url).protocol.replace(':', '')) === 'https';
}
