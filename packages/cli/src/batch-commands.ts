import type { ApiClient } from './api-client.ts';
import type { Invocation } from './args.ts';
import {
  describeBatch,
  describeCancels,
  isBatchRunning,
  memberChanges,
  type BatchView,
} from './batch-view.ts';
import { EXIT, type ExitCode } from './cli-error.ts';
import { LiveView } from './live-view.ts';
import type { Output } from './output.ts';
import { pause } from './pause.ts';
import { once, outwaitRateLimit, rateLimitNotice } from './rate-limit.ts';

/**
 * Batches have no event stream: their view is read again this often while it runs,
 * and less often, up to BATCH_POLL_MAX_MS, while nothing changes. A token may make
 * 120 requests a minute; a follower takes at most 30 of them, and fewer when idle.
 */
export const BATCH_POLL_MS = 2_000;
export const BATCH_POLL_MAX_MS = 5_000;

/** The pause before the next read: back to the start on a change, else half as long again. */
export function nextPollMs(previousMs: number, changed: boolean): number {
  return changed ? BATCH_POLL_MS : Math.min(BATCH_POLL_MAX_MS, Math.round(previousMs * 1.5));
}

type BatchInvocation = Extract<Invocation, { command: 'batch' }>;
type DrainInvocation = Extract<Invocation, { command: 'drain' }>;

export function batchBody(invocation: BatchInvocation): Record<string, unknown> {
  return {
    ...(invocation.selector === undefined
      ? { pods: invocation.pods.map((name) => ({ name })) }
      : { selector: invocation.selector }),
    ...(invocation.namespace !== undefined && { namespace: invocation.namespace }),
    ...(invocation.to !== undefined && { target_node: invocation.to }),
    ...(invocation.maxInFlight !== undefined && { max_in_flight: invocation.maxInFlight }),
    preserve_pv: invocation.preservePv,
    force: invocation.force,
    ...(invocation.timeoutSeconds !== undefined && { timeout: invocation.timeoutSeconds }),
  };
}

export function drainBody(invocation: DrainInvocation): Record<string, unknown> {
  return {
    node: invocation.node,
    ...(invocation.to !== undefined && { target_node: invocation.to }),
    ...(invocation.maxInFlight !== undefined && { max_in_flight: invocation.maxInFlight }),
    preserve_pv: invocation.preservePv,
    force: invocation.force,
    ...(invocation.timeoutSeconds !== undefined && { timeout: invocation.timeoutSeconds }),
  };
}

/** `aso batch` and `aso drain`: start it, then follow it unless detached. */
export async function startGroup(
  client: ApiClient,
  kind: 'batches' | 'drains',
  body: Record<string, unknown>,
  detach: boolean,
  output: Output,
  signal: AbortSignal,
): Promise<ExitCode> {
  const { body: accepted } = await client.request<BatchView>('POST', `/api/v1/${kind}`, body);
  if (detach) {
    if (output.format === 'json') output.json(accepted);
    else
      output.lines([
        ...describeBatch(accepted),
        `follow it with: aso ${kind === 'batches' ? 'batch' : 'drain'} get ${accepted.batch_id}`,
      ]);
    return EXIT.ok;
  }

  const final = await followGroup(client, kind, accepted, output, signal);
  if (output.format === 'json') output.json(final);
  else if (!output.live) output.lines([`${final.kind} ${final.batch_id} ${final.status}`]);
  return groupExitCode(final);
}

/** 0 only when every member completed; a drain's pods left behind are not members. */
export function groupExitCode(view: BatchView): ExitCode {
  return view.status === 'completed' ? EXIT.ok : EXIT.migrationFailed;
}

export async function getGroup(
  client: ApiClient,
  kind: 'batches' | 'drains',
  id: string,
  output: Output,
): Promise<ExitCode> {
  const { body } = await client.get<BatchView>(`/api/v1/${kind}/${encodeURIComponent(id)}`);
  if (output.format === 'json') output.json(body);
  else output.lines(describeBatch(body));
  return EXIT.ok;
}

export async function cancelGroup(
  client: ApiClient,
  kind: 'batches' | 'drains',
  id: string,
  output: Output,
): Promise<ExitCode> {
  const { body } = await client.request<BatchView>(
    'DELETE',
    `/api/v1/${kind}/${encodeURIComponent(id)}`,
  );
  if (output.format === 'json') output.json(body);
  else output.lines(describeCancels(body));
  return EXIT.ok;
}

/**
 * Reads the view until no member runs, every few seconds (see nextPollMs), waiting
 * out a 429 as its Retry-After asks; shows it as the output allows.
 */
async function followGroup(
  client: ApiClient,
  kind: 'batches' | 'drains',
  first: BatchView,
  output: Output,
  signal: AbortSignal,
): Promise<BatchView> {
  const view = output.live ? new LiveView(output.terminal.stdout) : null;
  const barWidth = Math.max(10, Math.min(30, output.width - 60));
  const path = `/api/v1/${kind}/${encodeURIComponent(first.batch_id)}`;
  let previous: BatchView | null = null;
  let current = first;
  let pauseMs = BATCH_POLL_MS;
  let notice: string | undefined;
  const redraw = () => {
    const frame = describeBatch(current, barWidth);
    view?.draw(fitScreen(notice === undefined ? frame : [...frame, `  ${notice}`], output));
  };
  // On a terminal the notice joins the frame: a line on stderr would throw off the redraw.
  const tellWait = view
    ? (waitMs: number) => {
        notice = rateLimitNotice(waitMs);
        redraw();
      }
    : once((waitMs) => {
        output.note(`aso: ${rateLimitNotice(waitMs)}`);
      });

  for (;;) {
    if (view) redraw();
    else if (output.format === 'text')
      output.lines(previous === null ? describeBatch(current) : memberChanges(previous, current));
    if (!isBatchRunning(current)) break;

    await pause(pauseMs, signal);
    previous = current;
    current = (await outwaitRateLimit(() => client.get<BatchView>(path), signal, tellWait)).body;
    notice = undefined;
    pauseMs = nextPollMs(pauseMs, JSON.stringify(current) !== JSON.stringify(previous));
  }
  view?.finish();
  return current;
}

/**
 * Cuts a frame to the terminal: lines to its width, and rows to its height, since
 * lines scrolled off the top can no longer be redrawn.
 */
export function fitScreen(lines: string[], output: Pick<Output, 'width' | 'height'>): string[] {
  const cut = lines.map((line) => line.slice(0, output.width - 1));
  const room = Math.max(3, output.height - 2);
  if (cut.length <= room) return cut;
  return [
    ...cut.slice(0, room - 1),
    `  ... ${cut.length - room + 1} more lines: aso batch get or drain get shows all`,
  ];
}
