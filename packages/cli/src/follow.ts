import type { ApiClient } from './api-client.ts';
import { CliError, EXIT } from './cli-error.ts';
import { isTerminal, parseEvent, type MigrationEvent } from './migration-event.ts';
import { pause } from './pause.ts';
import { RateLimitedError, type RateLimitListener } from './rate-limit.ts';
import { SseParser } from './sse.ts';

export interface FollowOptions {
  /** Pauses before each reconnection in a row; the last one repeats. */
  retryDelaysMs?: number[];
  /** Reconnections in a row, without an event between them, before giving up. */
  maxReconnects?: number;
  /**
   * Silence after which a stream counts as dropped. The server sends a heartbeat
   * every 15 s, so three missed ones mean the connection is dead, not idle.
   */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Told before each reconnection, with why the stream was lost. */
  onReconnect?: (attempt: number, reason: string) => void;
  /** Told when the API answered 429 and following waits as its Retry-After asks. */
  onRateLimited?: RateLimitListener;
}

const DEFAULTS = {
  retryDelaysMs: [500, 1_000, 2_000, 4_000],
  maxReconnects: 10,
  idleTimeoutMs: 45_000,
};

/**
 * Follows a migration's event stream until its terminal event, which it returns.
 * A dropped stream is opened again with Last-Event-ID set to the last event seen,
 * so the server resumes right after it: nothing is missed or shown twice.
 */
export async function followMigration(
  client: ApiClient,
  migrationId: string,
  onEvent: (event: MigrationEvent) => void,
  options: FollowOptions = {},
): Promise<MigrationEvent> {
  const settings = { ...DEFAULTS, ...options };
  const cursor: Cursor = { lastEventId: null, sinceProgress: 0 };
  const path = `/api/v1/migrations/${encodeURIComponent(migrationId)}/events`;

  for (;;) {
    let reason: string;
    try {
      const terminal = await readStream(client, path, cursor, onEvent, settings);
      if (terminal) return terminal;
      reason = 'the stream ended before the migration did';
    } catch (error) {
      if (error instanceof RateLimitedError && options.signal?.aborted !== true) {
        // Not a lost stream but a token out of requests for the minute: wait as
        // asked, without counting it against the reconnections.
        options.onRateLimited?.(error.retryAfterMs);
        await pause(error.retryAfterMs, options.signal);
        continue;
      }
      if (options.signal?.aborted === true || !retryable(error)) throw error;
      reason = error instanceof Error ? error.message : String(error);
    }

    cursor.sinceProgress += 1;
    if (cursor.sinceProgress > settings.maxReconnects) {
      throw new CliError(
        EXIT.unavailable,
        `lost the event stream of migration ${migrationId} ${cursor.sinceProgress} times in a row ` +
          `(${reason}); the migration goes on: aso get ${migrationId}`,
      );
    }
    options.onReconnect?.(cursor.sinceProgress, reason);
    const delays = settings.retryDelaysMs;
    await pause(delays[Math.min(cursor.sinceProgress, delays.length) - 1] ?? 1_000, options.signal);
  }
}

interface Cursor {
  lastEventId: string | null;
  /** Reconnections since the last event arrived. */
  sinceProgress: number;
}

/** Refusals (bad token, unknown migration) end the follow; 5xx and network errors are worth a retry. */
function retryable(error: unknown): boolean {
  if (!(error instanceof CliError)) return true;
  return error.exitCode === EXIT.unavailable;
}

/** Reads one connection; resolves with the terminal event, or undefined when it ended early. */
async function readStream(
  client: ApiClient,
  path: string,
  cursor: Cursor,
  onEvent: (event: MigrationEvent) => void,
  settings: typeof DEFAULTS & FollowOptions,
): Promise<MigrationEvent | undefined> {
  const connection = new AbortController();
  const stopOnAbort = () => {
    connection.abort(settings.signal?.reason);
  };
  settings.signal?.addEventListener('abort', stopOnAbort, { once: true });
  const idle = idleWatch(connection, settings.idleTimeoutMs);

  try {
    idle.reset();
    const response = await client.openStream(path, cursor.lastEventId, connection.signal);
    if (!response.body) return undefined;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();

    for (;;) {
      idle.reset();
      const { done, value } = await reader.read();
      if (done) return undefined;

      for (const message of parser.push(value)) {
        const event = parseEvent(message.data);
        if (!event) continue;
        if (message.id !== undefined) cursor.lastEventId = message.id;
        cursor.sinceProgress = 0;
        onEvent(event);
        if (isTerminal(event)) {
          await reader.cancel().catch(() => undefined);
          return event;
        }
      }
    }
  } catch (error) {
    if (idle.fired)
      throw new Error(`no data for ${settings.idleTimeoutMs / 1000} s`, { cause: error });
    throw error;
  } finally {
    idle.stop();
    settings.signal?.removeEventListener('abort', stopOnAbort);
    connection.abort();
  }
}

function idleWatch(connection: AbortController, timeoutMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const watch = {
    fired: false,
    reset() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        watch.fired = true;
        connection.abort();
      }, timeoutMs);
    },
    stop() {
      clearTimeout(timer);
    },
  };
  return watch;
}
