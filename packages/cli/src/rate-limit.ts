import { CliError, EXIT, type ProblemDetails } from './cli-error.ts';
import { pause } from './pause.ts';

/** The wait when a 429 names none, or one that cannot be read. */
export const DEFAULT_RETRY_AFTER_MS = 5_000;

/** The API's window is a minute; a longer Retry-After would be a mistake to wait out. */
const MAX_RETRY_AFTER_MS = 120_000;

/**
 * A 429: the token has used its requests for the minute. A single command exits 3
 * on it as on any refusal; following waits as long as the API asks, and goes on.
 */
export class RateLimitedError extends CliError {
  readonly retryAfterMs: number;

  constructor(message: string, problem: ProblemDetails, retryAfterMs: number) {
    super(EXIT.refused, message, problem);
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return DEFAULT_RETRY_AFTER_MS;

  const value = header.trim();
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return DEFAULT_RETRY_AFTER_MS;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(1_000, ms));
}

/** Told each time following waits out a 429, with how long. */
export type RateLimitListener = (waitMs: number) => void;

/** What the operator reads when following first has to wait. */
export function rateLimitNotice(waitMs: number): string {
  const seconds = Math.ceil(waitMs / 1000);
  return (
    `the API limits this token's requests (HTTP 429); waiting ${seconds} s as it asks, ` +
    'then following on; the work goes on meanwhile'
  );
}

/** A listener that passes on only its first call: the operator hears of the limit once. */
export function once(listener: RateLimitListener): RateLimitListener {
  let told = false;
  return function tellOnce(waitMs) {
    if (told) return;
    told = true;
    listener(waitMs);
  };
}

/**
 * Calls `request` until the API answers other than 429, pausing as each 429's
 * Retry-After asks. Other errors, and an abort (Ctrl-C), end it.
 */
export async function outwaitRateLimit<T>(
  request: () => Promise<T>,
  signal: AbortSignal,
  onWait?: RateLimitListener,
): Promise<T> {
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      onWait?.(error.retryAfterMs);
      await pause(error.retryAfterMs, signal);
    }
  }
}
