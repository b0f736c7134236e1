import { z } from 'zod';

import { createLogger, type Logger } from './logger.ts';
import { STAGES, type MigrationRecord, type MigrationStatus } from './migration.ts';
import type { RedisClient } from './redis.ts';
import { RedisScript } from './redis-script.ts';

/**
 * The event format of a migration's progress, as GET /api/v1/migrations/:id/events
 * streams it (docs/events.md tells the same for clients).
 *
 * Each event is one entry of a capped Redis stream beside the migration's record.
 * Over server-sent events: `id:` is the stream entry id ("<ms>-<seq>", increasing),
 * `event:` the type below, `data:` the event as JSON. Every event carries
 * migration_id, at (ISO time of the emitter), stage (null outside a stage), status
 * (the migration's status as the event happened) and a human message. Some add:
 *
 * - accepted: stored and queued by the gateway (or a batch, drain or policy).
 * - waiting: held back by a cap on migrations in flight; `reason` says which.
 * - stage-started: an attempt of `stage` (capture, pod, metrics) began; `attempt`.
 * - stage-retrying: that attempt failed transiently and will be retried; `attempt`,
 *   `error` (the code and reason).
 * - stage-finished: the stage is done; `next_stage` takes over (null: none).
 * - new-pod-created, pod-ready: the new pod (`pod`: name and node).
 * - eviction-blocked: a PodDisruptionBudget refuses the original's eviction for now.
 * - original-removed: the original pod has left its node (`pod`).
 * - original-restored: a break-before-make rollback created the original again.
 * - cancel-requested: an operator asked to cancel; the running stage rolls back.
 * - rolled-back: what the stage undid (`undone`), the original kept or restored.
 * - completed, failed, cancelled: the end; failed and cancelled carry `error`
 *   (code, message, rolled_back). Nothing follows them and the stream closes.
 *
 * An event marked `derived: true` was not in the log: the record had ended but its
 * terminal event was missing (a process died between the two writes), so the
 * stream made it from the record. It has no `id:` line.
 */
export const MIGRATION_EVENT_TYPES = [
  'accepted',
  'waiting',
  'stage-started',
  'stage-retrying',
  'stage-finished',
  'new-pod-created',
  'pod-ready',
  'eviction-blocked',
  'original-removed',
  'original-restored',
  'cancel-requested',
  'rolled-back',
  'completed',
  'failed',
  'cancelled',
] as const;
export type MigrationEventType = (typeof MIGRATION_EVENT_TYPES)[number];

/** The events that end a migration's stream. */
export const TERMINAL_EVENT_TYPES = ['completed', 'failed', 'cancelled'] as const;

const STATUSES = ['pending', 'waiting', 'running', 'completed', 'failed', 'cancelled'] as const;

export const migrationEventSchema = z.object({
  type: z.enum(MIGRATION_EVENT_TYPES),
  migration_id: z.string(),
  at: z.string(),
  stage: z.enum(STAGES).nullable(),
  status: z.enum(STATUSES),
  message: z.string(),
  attempt: z.number().int().min(1).optional(),
  reason: z.string().optional(),
  next_stage: z.enum(STAGES).nullable().optional(),
  pod: z.object({ name: z.string(), node: z.string().nullable() }).optional(),
  error: z.object({ code: z.string(), message: z.string(), rolled_back: z.boolean() }).optional(),
  undone: z.array(z.string()).optional(),
  derived: z.literal(true).optional(),
});
export type MigrationEvent = z.output<typeof migrationEventSchema>;

/** An event as the log holds it: its stream entry id (the SSE id) and the event. */
export interface LoggedEvent {
  id: string;
  event: MigrationEvent;
}

/** Stream entry ids: "<milliseconds>-<sequence>". */
export const EVENT_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

/**
 * Entries kept per migration, roughly: XADD trims with MAXLEN ~, which drops whole
 * blocks of old entries, so a log may briefly hold up to a hundred more. A
 * migration writes a dozen or two; the cap bounds one that waits or retries long.
 */
export const DEFAULT_EVENT_LOG_LENGTH = 500;

/**
 * Appends an event only while the migration's record exists, and gives the log the
 * record's expiry: a finished record expires after the retention time, and its log
 * with it. While the record has no expiry (unfinished), the log expires the
 * retention time after its latest event, so that a log whose record ended without
 * a last event (a process died) does not outlive it by more than that.
 * KEYS[1] the log, KEYS[2] the record; both carry the prefix's hash tag, so they
 * live in one slot in Redis Cluster. ARGV: length cap, event JSON, retention in ms.
 */
const APPEND_SCRIPT = new RedisScript(`
local ttl = redis.call('PTTL', KEYS[2])
if ttl == -2 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', ARGV[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return id
`);

/** The key of a migration's record; the store and the log build it alike. */
export function migrationRecordKey(prefix: string, migrationId: string): string {
  return `${prefix}:migration:${migrationId}`;
}

/** The key of a migration's event log, next to its record. */
export function migrationEventsKey(prefix: string, migrationId: string): string {
  return `${migrationRecordKey(prefix, migrationId)}:events`;
}

export function isTerminalEvent(type: MigrationEventType): boolean {
  return (TERMINAL_EVENT_TYPES as readonly string[]).includes(type);
}

/** The fields every event takes from the record it is about. */
export type EventDraft = Omit<MigrationEvent, 'migration_id' | 'at' | 'status' | 'stage'> &
  Partial<Pick<MigrationEvent, 'stage' | 'status'>>;

/**
 * Each migration's progress as a capped Redis stream. Writers are the gateway, the
 * stage worker wrapper and the pod stage; the events route reads it. Writing an
 * event never fails a migration: `emit` logs a Redis error and carries on.
 */
export class MigrationEventLog {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  /** How long a log outlives its latest event while its record has no expiry. */
  readonly retentionMs: number;
  /** Entries kept, roughly (MAXLEN ~). */
  readonly maxLength: number;
  private readonly logger: Logger;

  /**
   * `retentionSeconds`: how long a finished record stays, as the store keeps it.
   * `logger` reports the events that could not be written when the caller has no
   * logger of its own at hand.
   */
  constructor(
    redis: RedisClient,
    prefix: string,
    retentionSeconds: number,
    options: { maxLength?: number; logger?: Logger } = {},
  ) {
    this.redis = redis;
    this.prefix = prefix;
    this.retentionMs = retentionSeconds * 1000;
    this.maxLength = options.maxLength ?? DEFAULT_EVENT_LOG_LENGTH;
    this.logger = options.logger ?? createLogger('migration-events', 'warn');
  }

  /**
   * Appends an event; returns its entry id, or null when the migration's record
   * no longer exists (nothing is written then). Throws on a Redis error.
   */
  async append(event: MigrationEvent): Promise<string | null> {
    const id = event.migration_id;
    const result = await APPEND_SCRIPT.run(
      this.redis,
      [migrationEventsKey(this.prefix, id), migrationRecordKey(this.prefix, id)],
      [this.maxLength, JSON.stringify(event), this.retentionMs],
    );
    return typeof result === 'string' ? result : null;
  }

  /**
   * Appends an event about a record as it stands (its id, stage and status unless
   * the draft says otherwise). A failure is logged, never thrown: the event log is
   * a view of the migration, not part of it.
   */
  async emit(
    record: MigrationRecord,
    draft: EventDraft,
    log: Logger = this.logger,
    now = new Date(),
  ): Promise<void> {
    const event = eventAbout(record, draft, now);
    try {
      await this.append(event);
    } catch (err) {
      log.warn({ err, migrationId: record.migration_id, event: draft.type }, 'could not log event');
    }
  }

  /** Events after the entry id `after` (from the start when null), oldest first. */
  async read(migrationId: string, after: string | null, count = 100): Promise<LoggedEvent[]> {
    const start = after === null ? '-' : `(${after}`;
    const key = migrationEventsKey(this.prefix, migrationId);
    const entries = await this.redis.xrange(key, start, '+', 'COUNT', count);
    return entries.flatMap(([id, fields]) => parseEntry(id, fields));
  }

  /** The newest event of a migration, if its log holds any. */
  async last(migrationId: string): Promise<LoggedEvent | null> {
    const key = migrationEventsKey(this.prefix, migrationId);
    const entries = await this.redis.xrevrange(key, '+', '-', 'COUNT', 1);
    const [entry] = entries.flatMap(([id, fields]) => parseEntry(id, fields));
    return entry ?? null;
  }
}

/** An event about a record as it stands: its id, stage and status unless the draft says otherwise. */
export function eventAbout(
  record: MigrationRecord,
  draft: EventDraft,
  now = new Date(),
): MigrationEvent {
  return {
    migration_id: record.migration_id,
    at: now.toISOString(),
    stage: record.stage,
    status: record.status,
    ...draft,
  };
}

/** An entry this version cannot read (written by a later one) is skipped, not fatal. */
function parseEntry(id: string, fields: string[]): LoggedEvent[] {
  const index = fields.indexOf('event');
  const raw = index >= 0 ? fields[index + 1] : undefined;
  if (raw === undefined) return [];

  const parsed = migrationEventSchema.safeParse(safeJson(raw));
  return parsed.success ? [{ id, event: parsed.data }] : [];
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

/**
 * The terminal event a finished record implies, for a log that lacks it. Marked
 * derived so that a client can tell it from a logged one.
 */
export function derivedTerminalEvent(record: MigrationRecord): MigrationEvent | null {
  const type = terminalTypeOf(record.status);
  if (type === null) return null;

  return {
    type,
    migration_id: record.migration_id,
    at: record.finished_at ?? record.updated_at,
    stage: record.error?.stage ?? record.stage,
    status: record.status,
    message: record.message,
    ...(record.error && {
      error: {
        code: record.error.code,
        message: record.error.message,
        rolled_back: record.error.rolled_back,
      },
    }),
    derived: true,
  };
}

function terminalTypeOf(status: MigrationStatus): MigrationEventType | null {
  return status === 'completed' || status === 'failed' || status === 'cancelled' ? status : null;
}

/** The `error` field of failed and cancelled events, from the record's failure. */
export function eventError(record: MigrationRecord): MigrationEvent['error'] {
  return record.error
    ? {
        code: record.error.code,
        message: record.error.message,
        rolled_back: record.error.rolled_back,
      }
    : undefined;
}
