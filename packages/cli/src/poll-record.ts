import type { MigrationRecord } from '@aso/shared';

import type { ApiClient } from './api-client.ts';
import { CliError, EXIT } from './cli-error.ts';
import type { Output } from './output.ts';
import { clock } from './progress.ts';

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

/** Reads the record until it ends, telling each change of status, stage or message. */
export async function pollUntilFinished(
  client: ApiClient,
  migrationId: string,
  output: Output,
  signal: AbortSignal,
  intervalMs = RECORD_POLL_MS,
): Promise<MigrationRecord> {
  let told = '';
  for (;;) {
    const { body: record } = await client.get<MigrationRecord>(
      `/api/v1/migrations/${encodeURIComponent(migrationId)}`,
    );
    const line = `${record.stage ?? '-'} ${record.status}: ${record.message}`;
    if (line !== told && output.format === 'text') {
      output.lines([`${clock(record.updated_at)} ${line}`]);
    }
    told = line;
    if (FINISHED.has(record.status)) return record;

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }
}
