import type { MigrationRecord } from '@aso/shared';

import type { ApiClient } from './api-client.ts';
import type { Invocation } from './args.ts';
import { EXIT, type ExitCode } from './cli-error.ts';
import { followMigration } from './follow.ts';
import { outcomeLines, subjectOf } from './format-record.ts';
import { LiveView } from './live-view.ts';
import type { MigrationEvent } from './migration-event.ts';
import type { Output } from './output.ts';
import { pollUntilFinished, streamUnusable } from './poll-record.ts';
import { applyEvent, eventLine, renderFrame, startProgress } from './progress.ts';
import { once, outwaitRateLimit, rateLimitNotice, type RateLimitListener } from './rate-limit.ts';

type MigrateInvocation = Extract<Invocation, { command: 'migrate' }>;

/** The request body of POST /api/v1/migrations; absent options take the API's defaults. */
export function migrationBody(invocation: MigrateInvocation): Record<string, unknown> {
  return {
    pod_name: invocation.pod,
    ...(invocation.namespace !== undefined && { pod_namespace: invocation.namespace }),
    ...(invocation.from !== undefined && { source_node: invocation.from }),
    target_node: invocation.to,
    preserve_pv: invocation.preservePv,
    force: invocation.force,
    ...(invocation.timeoutSeconds !== undefined && { timeout: invocation.timeoutSeconds }),
  };
}

export async function migrate(
  client: ApiClient,
  invocation: MigrateInvocation,
  output: Output,
  signal: AbortSignal,
): Promise<ExitCode> {
  const { body: accepted } = await client.request<MigrationRecord>(
    'POST',
    '/api/v1/migrations',
    migrationBody(invocation),
  );
  const id = accepted.migration_id;

  if (invocation.detach) {
    if (output.format === 'json') output.json(accepted);
    else
      output.lines([
        `migration ${id} accepted: ${subjectOf(accepted)}`,
        `follow it with: aso get ${id}`,
      ]);
    return EXIT.ok;
  }

  // A token's minute of requests may run out while following: wait as the API asks.
  const tellWait = once((waitMs) => {
    output.note(`aso: ${rateLimitNotice(waitMs)}`);
  });
  await followOrPoll(client, accepted, output, signal, tellWait);
  const { body: record } = await outwaitRateLimit(
    () => client.get<MigrationRecord>(`/api/v1/migrations/${id}`),
    signal,
    tellWait,
  );
  if (output.format === 'json') output.json(record);
  else output.lines(outcomeLines(record));
  return record.status === 'completed' ? EXIT.ok : EXIT.migrationFailed;
}

async function followOrPoll(
  client: ApiClient,
  accepted: MigrationRecord,
  output: Output,
  signal: AbortSignal,
  tellWait: RateLimitListener,
): Promise<void> {
  try {
    await followWithProgress(client, accepted, output, signal, tellWait);
  } catch (error) {
    if (signal.aborted || !streamUnusable(error)) throw error;
    output.note(`aso: ${error.message}; reading the migration's record instead`);
    await pollUntilFinished(client, accepted.migration_id, output, signal, {
      onRateLimited: tellWait,
    });
  }
}

/**
 * Follows the migration's events to its end, showing them as the output allows:
 * a frame redrawn in place on a terminal, a line per event otherwise, nothing for json.
 */
export async function followWithProgress(
  client: ApiClient,
  accepted: MigrationRecord,
  output: Output,
  signal: AbortSignal,
  tellWait: RateLimitListener,
): Promise<MigrationEvent> {
  if (output.live) return followLive(client, accepted, output, signal);

  const quiet = output.format === 'json';
  if (!quiet) output.lines([`migration ${accepted.migration_id}  ${subjectOf(accepted)}`]);
  return followMigration(
    client,
    accepted.migration_id,
    (event) => {
      if (!quiet) output.lines([eventLine(event)]);
    },
    {
      signal,
      onReconnect: (attempt, reason) => {
        output.note(`event stream lost (${reason}); reconnecting, attempt ${attempt}`);
      },
      onRateLimited: tellWait,
    },
  );
}

/** Redraws at every event and every second between, so that elapsed times tick. */
async function followLive(
  client: ApiClient,
  accepted: MigrationRecord,
  output: Output,
  signal: AbortSignal,
): Promise<MigrationEvent> {
  const view = new LiveView(output.terminal.stdout);
  let state = startProgress(accepted.migration_id, subjectOf(accepted));
  let notice: string | undefined;
  const redraw = () => {
    const frame = renderFrame(state, { now: new Date(), width: output.width });
    view.draw(notice === undefined ? frame : [...frame, `  ${notice}`]);
  };

  redraw();
  const ticker = setInterval(redraw, 1_000);
  try {
    return await followMigration(
      client,
      accepted.migration_id,
      (event) => {
        state = applyEvent(state, event);
        notice = undefined;
        redraw();
      },
      {
        signal,
        onReconnect: (attempt, reason) => {
          notice = `event stream lost (${reason}); reconnecting, attempt ${attempt}`;
          redraw();
        },
        // In the frame, not on stderr: a line written below it would throw off the redraw.
        onRateLimited: (waitMs) => {
          notice = rateLimitNotice(waitMs);
          redraw();
        },
      },
    );
  } finally {
    clearInterval(ticker);
    view.finish();
  }
}
