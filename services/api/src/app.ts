import { Hono } from 'hono';
import { requestId } from 'hono/request-id';

import { adminRoutes } from './admin/admin-routes.ts';
import { isQueueBoardPath } from './admin/board-session.ts';
import { bearerAuth } from './auth.ts';
import type { ApiDeps, ApiEnv } from './deps.ts';
import { batchRoutes } from './routes/batches.ts';
import { errorHeaders } from './error-headers.ts';
import { allowedMethods } from './method-not-allowed.ts';
import { buildProblem, problemFor, problemResponse } from './problem.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { migrationEventRoutes } from './routes/migration-events.ts';
import { migrationRoutes } from './routes/migrations.ts';
import { policyRoutes } from './routes/policies.ts';
import { rateLimit } from './rate-limit.ts';
import { requestLog, startRequestLog } from './request-log.ts';

/** The HTTP gateway: validates requests, hands migrations to the queues, reports on them. */
export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(async function logRequest(c, next) {
    const started = performance.now();
    startRequestLog(c, deps.logger, c.get('requestId'));

    await next();

    // Headers and query are left out on purpose: they may carry a token.
    const durationMs = Math.round(performance.now() - started);
    const fields = { method: c.req.method, path: c.req.path, status: c.res.status, durationMs };
    // An open Bull Board polls every few seconds; its answered reads are detail.
    const routine = isQueueBoardPath(c.req.path) && c.req.method === 'GET' && c.res.status < 400;
    if (routine) requestLog(c).debug(fields, 'request');
    else requestLog(c).info(fields, 'request');
  });
  app.use(bearerAuth(deps.tokens));
  if (deps.rateLimiter) app.use(rateLimit(deps.rateLimiter));

  app.route('/', healthRoutes(deps));
  app.route('/api/v1', migrationRoutes(deps));
  app.route('/api/v1', migrationEventRoutes(deps));
  if (deps.cluster && deps.batches) {
    app.route('/api/v1', batchRoutes(deps, deps.cluster, deps.batches));
  }
  if (deps.policies) app.route('/api/v1', policyRoutes(deps, deps.policies));
  app.route('/', docsRoutes());
  app.route('/', adminRoutes(deps.queues, deps.now ?? (() => new Date())));

  app.notFound(function notFound(c) {
    const allowed = allowedMethods(app.routes, c.req.path);
    if (allowed.length > 0) {
      const detail = `${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(', ')}`;
      const problem = buildProblem(c, 405, 'method-not-allowed', detail);
      const response = problemResponse(c, { ...problem, title: 'Method Not Allowed' });
      response.headers.set('Allow', allowed.join(', '));
      return response;
    }
    return problemResponse(
      c,
      buildProblem(c, 404, 'route-not-found', `no route for ${c.req.method} ${c.req.path}`),
    );
  });
  app.onError(function onError(error, c) {
    const problem = problemFor(c, error);
    // The request logger may not exist yet if an earlier middleware threw.
    const started = (c.get('logBase') as typeof deps.logger | undefined) !== undefined;
    const log = started ? requestLog(c) : deps.logger;
    // The request's own logger names the request already.
    const fields = started ? { err: error } : { err: error, requestId: problem.request_id };
    if (problem.status >= 500) log.error(fields, 'request failed');
    const response = problemResponse(c, problem);
    for (const [name, value] of Object.entries(errorHeaders(error))) {
      response.headers.set(name, value);
    }
    return response;
  });

  return app;
}
