import { Hono } from 'hono';

import type { ApiDeps, ApiEnv } from '../deps.ts';

interface CheckResult {
  status: 'ok' | 'failing';
  detail?: string;
}

/**
 * A dependency that hangs (an apiserver that accepts connections and never answers)
 * must fail the probe within the probe's own timeout, not after the client's.
 */
const CHECK_TIMEOUT_MS = 2_000;

function withinProbeTime(check: Promise<void>, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${name} did not answer within ${String(CHECK_TIMEOUT_MS)} ms`));
    }, CHECK_TIMEOUT_MS);
  });
  return Promise.race([check, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

export function healthRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();

  routes.get('/health', function health(c) {
    return c.json({ status: 'ok' });
  });

  routes.get('/ready', async function ready(c) {
    const results = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          await withinProbeTime(check(), name);
          return [name, { status: 'ok' }];
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          return [name, { status: 'failing', detail }];
        }
      }),
    );
    const ready = results.every(([, result]) => result.status === 'ok');

    return c.json(
      { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) },
      ready ? 200 : 503,
    );
  });

  routes.get('/metrics', async function prometheusMetrics(c) {
    return c.body(await deps.registry.metrics(), 200, {
      'content-type': deps.registry.contentType,
    });
  });

  return routes;
}
