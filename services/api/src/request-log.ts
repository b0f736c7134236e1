import type { Context } from 'hono';

import type { Logger } from '@aso/shared';

import type { ApiEnv, LogFields } from './deps.ts';

/**
 * From here on, every line the request logs (its closing request line included)
 * carries `fields` too: the token that made it, the migration it is about.
 *
 * Each call makes a child of the gateway's own logger with all of the request's
 * fields, never a child of the request's current logger. A child of a child makes
 * a per-request object the prototype of another, and V8 then gives each such
 * object hidden classes of its own, allocated straight in the old generation:
 * about a kilobyte per request that only a full collection frees, and full
 * collections were the gateway's longest pauses under load.
 */
export function logAbout(c: Context<ApiEnv>, fields: object): void {
  const about: LogFields = { ...c.get('logFields'), ...fields };
  c.set('logFields', about);
  c.set('log', c.get('logBase').child(about));
}

/** Starts a request's log with the gateway's logger and the request's id. */
export function startRequestLog(c: Context<ApiEnv>, logger: Logger, requestId: string): void {
  c.set('logBase', logger);
  c.set('logFields', {});
  logAbout(c, { requestId });
}
