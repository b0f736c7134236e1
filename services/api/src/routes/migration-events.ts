import { Hono, type Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { z } from 'zod';

import {
  derivedTerminalEvent,
  EVENT_ID_PATTERN,
  fromStore,
  isFinished,
  isTerminalEvent,
  migrationLogFields,
  type LoggedEvent,
  type MigrationEvent,
  type MigrationStore,
  ValidationError,
} from '@aso/shared';

import type { ApiDeps, ApiEnv } from '../deps.ts';
import { logAbout, requestLog } from '../request-log.ts';
import { idSchema } from '../request-schemas.ts';
import { validate } from '../validation.ts';

/** How a live event stream follows its migration. */
export interface EventStreamSettings {
  /** How often a live stream reads the log for new events, in ms. Default 500. */
  pollMs: number;
  /** How often a stream sends a comment line so that proxies keep it open, in ms. Default 15000. */
  heartbeatMs: number;
  /**
   * How long after a record ended its terminal event may still be on its way to the
   * log (written just after the record), in ms; past it, the stream derives the
   * event from the record. Default 5000.
   */
  derivedGraceMs: number;
}

export const DEFAULT_EVENT_STREAM_SETTINGS: EventStreamSettings = {
  pollMs: 500,
  heartbeatMs: 15_000,
  derivedGraceMs: 5_000,
};

/** Events read from the log at a time; a longer log is replayed in several reads. */
const READ_BATCH = 100;

export const lastEventIdSchema = z
  .string()
  .regex(EVENT_ID_PATTERN, 'must be an event id as sent in the stream, such as 1764882000123-0');

/**
 * GET /migrations/:id/events: the migration's progress as server-sent events. It
 * replays the log (from the start, or after Last-Event-ID), then follows it until
 * the migration's last event, and closes.
 *
 * Following polls the log with XRANGE on the store's shared connection rather than
 * blocking in XREAD: a blocked XREAD holds a Redis connection per open stream, so
 * streams would have to be capped; a poll costs one short read per interval and
 * stream, and nothing is left to clean up when a client goes away.
 */
export function migrationEventRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const settings = { ...DEFAULT_EVENT_STREAM_SETTINGS, ...deps.eventStream };
  const now = deps.now ?? (() => new Date());

  routes.get('/migrations/:id/events', async function streamMigrationEvents(c) {
    const id = validate(idSchema, c.req.param('id'), 'id');
    const after = lastEventId(c);
    const record = await fromStore(() => deps.store.require(id));
    logAbout(c, migrationLogFields(record));
    const log = requestLog(c);

    if (after !== null) {
      const last = await fromStore(() => deps.store.events.last(id));
      requireInLog(after, last);
      // An EventSource reconnects whenever a stream closes, unless it is told 204.
      if (isFinished(record) && endSentBefore(last, after.value)) return c.body(null, 204);
    }

    // Proxies such as nginx would otherwise buffer the stream.
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async function followMigration(stream) {
      const stopping = deps.stopping ?? new AbortController().signal;
      const parts = { store: deps.store, id, settings, stream, now, stopping };
      const follower = new EventFollower(parts, after?.value ?? null);
      try {
        await follower.run();
      } catch (err) {
        log.warn({ err }, 'event stream ended early');
        await stream.writeSSE({
          event: 'stream-error',
          data: JSON.stringify({
            message: 'the event log cannot be read now; reconnect with Last-Event-ID to resume',
          }),
        });
      }
    });
  });

  return routes;
}

/** Whether the log's terminal event is at or before `after`: the client has seen the end. */
function endSentBefore(last: LoggedEvent | null, after: string): boolean {
  return last !== null && isTerminalEvent(last.event.type) && compareEventIds(last.id, after) <= 0;
}

/** A client's resume point, and where it came from, for the error that names it. */
interface ResumePoint {
  value: string;
  field: 'Last-Event-ID' | 'last_event_id';
}

/** The Last-Event-ID header, or the last_event_id query parameter of EventSource clients. */
function lastEventId(c: Context<ApiEnv>): ResumePoint | null {
  const header = c.req.header('last-event-id');
  if (header !== undefined) {
    const field = 'Last-Event-ID';
    return { value: validate(lastEventIdSchema, header.trim(), field), field };
  }

  const query = c.req.query('last_event_id');
  if (query === undefined) return null;
  const field = 'last_event_id';
  return { value: validate(lastEventIdSchema, query, field), field };
}

/**
 * Refuses a resume point past the log's last entry (made up, or taken from another
 * migration): no event would ever follow it, so the stream would idle and the client
 * would never learn the outcome. The last entry itself is valid: resume at the end.
 * An id before the first entry (trimmed away) replays what the log still holds.
 */
function requireInLog(after: ResumePoint, last: LoggedEvent | null): void {
  if (last !== null && compareEventIds(after.value, last.id) <= 0) return;

  const message =
    `event id ${after.value} is not in this migration's log` +
    (last === null ? ', which is empty' : `, whose last event is ${last.id}`) +
    '; reconnect without it to replay from the start';
  throw new ValidationError(message, [{ field: after.field, message }]);
}

interface FollowerParts {
  store: MigrationStore;
  id: string;
  settings: EventStreamSettings;
  stream: SSEStreamingApi;
  now: () => Date;
  /** The gateway stops: the stream ends, and the client resumes elsewhere. */
  stopping: AbortSignal;
}

/** One client's stream: replay, then follow until the terminal event is sent. */
class EventFollower {
  private readonly store: MigrationStore;
  private readonly migrationId: string;
  private readonly settings: EventStreamSettings;
  private readonly stream: SSEStreamingApi;
  private readonly now: () => Date;
  private readonly stopping: AbortSignal;
  /** The last event sent (or the client's Last-Event-ID); null before any. */
  private cursor: string | null;
  private lastWriteMs = Date.now();

  constructor(parts: FollowerParts, after: string | null) {
    this.store = parts.store;
    this.migrationId = parts.id;
    this.settings = parts.settings;
    this.stream = parts.stream;
    this.now = parts.now;
    this.stopping = parts.stopping;
    this.cursor = after;
  }

  async run(): Promise<void> {
    while (!this.stream.aborted && !this.stopping.aborted) {
      const batch = await this.store.events.read(this.migrationId, this.cursor, READ_BATCH);
      for (const logged of batch) {
        await this.send(logged);
        if (isTerminalEvent(logged.event.type)) return;
      }
      if (batch.length === READ_BATCH) continue;

      if (await this.ended()) return;
      await this.heartbeatIfDue();
      await pause(this.settings.pollMs, this.stopping);
    }
  }

  /**
   * Whether the stream is over although the log holds nothing new: the record has
   * ended, and its terminal event was sent before (a client resuming after it) or
   * is missing (derived and sent now). Also over when the record has expired.
   */
  private async ended(): Promise<boolean> {
    const record = await this.store.get(this.migrationId);
    if (record === null) return true;
    if (!isFinished(record)) return false;

    const last = await this.store.events.last(this.migrationId);
    if (last && isTerminalEvent(last.event.type)) {
      // Written since the read above: the next read sends it.
      return this.cursor !== null && compareEventIds(last.id, this.cursor) <= 0;
    }

    const finishedMs = Date.parse(record.finished_at ?? record.updated_at);
    if (this.now().getTime() - finishedMs < this.settings.derivedGraceMs) return false;

    const derived = derivedTerminalEvent(record);
    if (derived) await this.sendDerived(derived);
    return true;
  }

  private async send(logged: LoggedEvent): Promise<void> {
    await this.stream.writeSSE({
      id: logged.id,
      event: logged.event.type,
      data: JSON.stringify(logged.event),
    });
    this.cursor = logged.id;
    this.lastWriteMs = Date.now();
  }

  /** Without an id: a client that reconnects resumes after the last logged event. */
  private async sendDerived(event: MigrationEvent): Promise<void> {
    await this.stream.writeSSE({ event: event.type, data: JSON.stringify(event) });
  }

  private async heartbeatIfDue(): Promise<void> {
    if (Date.now() - this.lastWriteMs < this.settings.heartbeatMs) return;
    await this.stream.write(': heartbeat\n\n');
    this.lastWriteMs = Date.now();
  }
}

/** Waits `ms`, or less when the gateway stops meanwhile. */
function pause(ms: number, stopping: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopping.addEventListener('abort', done, { once: true });
  });
}

/** Orders two stream entry ids ("<ms>-<seq>"); negative when a comes first. */
export function compareEventIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}
