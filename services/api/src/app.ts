import { Hono } from 'hono';
import { requestId } from 'hono/request-id';

import type { ApiDeps, ApiEnv } from './deps.ts';
import { buildProblem, problemFor, problemResponse } from './problem.ts';
import { healthRoutes } from './routes/health.ts';
import { migrationRoutes } from './routes/migrations.ts';

/** The HTTP gateway: validates requests, hands migrations to the queues, reports on them. */
export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.use(requestId({ headerName: 'X-Request-Id' }));
  app.use(async function requestLog(c, next) {
    const started = performance.now();
    const log = deps.logger.child({ requestId: c.get('requestId') });
    c.set('log', log);

    await next();

    const durationMs = Math.round(performance.now() - started);
    log.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, durationMs },
      'request',
    );
  });

  app.route('/', healthRoutes(deps));
  app.route('/api/v1', migrationRoutes(deps));

  app.notFound(function notFound(c) {
    return problemResponse(
      c,
      buildProblem(c, 404, 'route-not-found', `no route for ${c.req.method} ${c.req.path}`),
    );
  });
  app.onError(function onError(error, c) {
    const problem = problemFor(c, error);
    // The request logger may not exist yet if an earlier middleware threw.
    const log = (c.get('log') as typeof deps.logger | undefined) ?? deps.logger;
    if (problem.status >= 500)
      log.error({ err: error, requestId: problem.request_id }, 'request failed');
    return problemResponse(c, problem);
  });

  return app;
}
