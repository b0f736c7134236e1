import type { MigrationRecord } from '@aso/shared';

import type { ApiClient } from './api-client.ts';
import { CliError, EXIT } from './cli-error.ts';
import type { Output } from './output.ts';
import { pause } from './pause.ts';
import { clock } from './progress.ts';
import { outwaitRateLimit, type RateLimitListener } from './rate-limit.ts';

/** How often the record is read when the event stream cannot be used. */
export const RECORD_POLL_MS = 2_000;

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Whether following should fall back to reading the record: the API has no event
 * stream (an older version), or the stream kept dropping (a proxy that buffers or
 * cuts long responses) while plain requests may still get through.
 */
export function streamUnusable(error: unknown): error is CliError {
  if (!(error instanceof CliError)) return false;
  return error.problem?.code === 'route-not-found' || error.exitCode === EXIT.unavailable;
}

/**
 * Reads the record until it ends, telling each change of status, stage or message.
 * A 429 is waited out as its Retry-After asks, and told to `onRateLimited`.
 */
export async function pollUntilFinished(
  client: ApiClient,
  migrationId: string,
  output: Output,
  signal: AbortSignal,
  options: { intervalMs?: number; onRateLimited?: RateLimitListener } = {},
): Promise<MigrationRecord> {
  const intervalMs = options.intervalMs ?? RECORD_POLL_MS;
  const path = `/api/v1/migrations/${encodeURIComponent(migrationId)}`;
  let told = '';
  for (;;) {
    const { body: record } = await outwaitRateLimit(
      () => client.get<MigrationRecord>(path),
      signal,
      options.onRateLimited,
    );
    const line = `${record.stage ?? '-'} ${record.status}: ${record.message}`;
    if (line !== told && output.format === 'text') {
      output.lines([`${clock(record.updated_at)} ${line}`]);
    }
    told = line;
    if (FINISHED.has(record.status)) return record;

    await pause(intervalMs, signal);
  }
}
