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

/** Batches have no event stream: their view is read again this often while it runs. */
export const BATCH_POLL_MS = 1_000;

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

/** Reads the view every second until no member runs; shows it as the output allows. */
async function followGroup(
  client: ApiClient,
  kind: 'batches' | 'drains',
  first: BatchView,
  output: Output,
  signal: AbortSignal,
): Promise<BatchView> {
  const view = output.live ? new LiveView(output.terminal.stdout) : null;
  const barWidth = Math.max(10, Math.min(30, output.width - 60));
  let previous: BatchView | null = null;
  let current = first;

  for (;;) {
    if (view) view.draw(fitScreen(describeBatch(current, barWidth), output));
    else if (output.format === 'text')
      output.lines(previous === null ? describeBatch(current) : memberChanges(previous, current));
    if (!isBatchRunning(current)) break;

    await pause(BATCH_POLL_MS, signal);
    previous = current;
    current = (await client.get<BatchView>(`/api/v1/${kind}/${encodeURIComponent(first.batch_id)}`))
      .body;
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

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}
