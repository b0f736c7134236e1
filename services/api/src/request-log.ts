import type { Context } from 'hono';

import type { Logger } from '@aso/shared';

import type { ApiEnv } from './deps.ts';

/** Starts a request's log with the gateway's logger and the request's id. */
export function startRequestLog(c: Context<ApiEnv>, logger: Logger, requestId: string): void {
  c.set('logBase', logger);
  c.set('logFields', { requestId });
  c.set('log', undefined);
}

/**
 * From here on, every line the request logs (its closing request line included)
 * carries `fields` too: the token that made it, the migration it is about.
 */
export function logAbout(c: Context<ApiEnv>, fields: object): void {
  c.set('logFields', { ...c.get('logFields'), ...fields });
  c.set('log', undefined);
}

/**
 * The request's logger: a child of the gateway's logger with all of the request's
 * fields, made when a line is first logged after they last changed, so that most
 * requests make one.
 *
 * Never a child of the request's previous logger: a child of a child makes a
 * per-request object the prototype of another, and V8 then gives each such object
 * hidden classes of its own, allocated straight in the old generation. That was
 * about a kilobyte per request that only a full collection frees, and full
 * collections were the gateway's longest pauses under load.
 */
export function requestLog(c: Context<ApiEnv>): Logger {
  let log = c.get('log');
  if (log === undefined) {
    log = c.get('logBase').child(c.get('logFields'));
    c.set('log', log);
  }
  return log;
}
