import { table } from './format-record.ts';

/**
 * A batch or drain as GET /api/v1/batches/:id and /api/v1/drains/:id answer it.
 * The CLI's own narrow view of the API's shape: only what it shows.
 */
export interface PodRef {
  namespace: string;
  name: string;
}

export interface BatchMember {
  pod: PodRef;
  source_node: string | null;
  target_node: string | null;
  migration_id: string | null;
  refused: { code: string; detail: string } | null;
  status: string;
  message: string;
  error: { code: string; message: string } | null;
}

export interface BatchView {
  batch_id: string;
  kind: 'batch' | 'drain';
  status: string;
  created_at: string;
  max_in_flight: number;
  target_node: string;
  selection: { namespace: string; selector: string } | { pods: PodRef[] } | { node: string };
  members: BatchMember[];
  drain: {
    node: string;
    left: { pod: PodRef; code: string; reason: string }[];
  } | null;
  summary: { members: number; by_status: Record<string, number> };
  cancels?: { migration_id: string; pod: PodRef; outcome: string; detail: string }[];
  uncordoned?: boolean;
}

/** The statuses a member never leaves. */
const ENDED = new Set(['completed', 'failed', 'cancelled', 'refused', 'expired']);

export function isBatchRunning(view: BatchView): boolean {
  return view.status === 'running';
}

function selectionOf(view: BatchView): string {
  const selection = view.selection;
  if ('node' in selection) return `node ${selection.node}`;
  if ('selector' in selection) return `${selection.namespace}: ${selection.selector}`;
  return `${selection.pods.length} pod(s)`;
}

function podName(pod: PodRef): string {
  return `${pod.namespace}/${pod.name}`;
}

/** The counts of the summary, those above zero, e.g. "completed 2, running 1". */
function countsLine(view: BatchView): string {
  const counts = Object.entries(view.summary.by_status).filter(([, count]) => count > 0);
  return counts.map(([status, count]) => `${status} ${count}`).join(', ') || 'no members';
}

/** A whole batch: the header, a bar of ended members, each member, the pods left behind. */
export function describeBatch(view: BatchView, barWidth = 30): string[] {
  const ended = view.members.filter((member) => ENDED.has(member.status)).length;
  const total = view.members.length;
  const filled = total === 0 ? barWidth : Math.round((ended / total) * barWidth);

  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const lines = [
    `${view.kind} ${view.batch_id}  ${selectionOf(view)} -> ${view.target_node}  ${view.status}`,
    `  ${bar} ${ended}/${total} ended; ${countsLine(view)}; at most ${view.max_in_flight} in flight`,
  ];
  if (total > 0) {
    lines.push(
      ...table(
        ['  POD', 'FROM', 'TO', 'STATUS', 'MIGRATION', 'NOTE'],
        view.members.map((member) => [
          `  ${podName(member.pod)}`,
          member.source_node ?? '-',
          member.target_node ?? '-',
          member.status,
          member.migration_id ?? '-',
          memberNote(member),
        ]),
      ),
    );
  }
  const node = view.drain?.node ?? 'the node';
  for (const left of view.drain?.left ?? []) {
    lines.push(`  left on ${node}: ${podName(left.pod)} (${left.code}): ${left.reason}`);
  }
  return lines;
}

function memberNote(member: BatchMember): string {
  if (member.refused) return `${member.refused.code}: ${member.refused.detail}`;
  if (member.error) return `${member.error.code}: ${member.error.message}`;
  return member.status === 'completed' ? '' : member.message;
}

/** One line per member whose status changed since the previous view: for logs and pipes. */
export function memberChanges(previous: BatchView | null, current: BatchView): string[] {
  const before = new Map(
    (previous?.members ?? []).map((member) => [podName(member.pod), member.status]),
  );
  return current.members
    .filter((member) => before.get(podName(member.pod)) !== member.status)
    .map((member) => {
      const note = memberNote(member);
      return `${podName(member.pod)} ${member.status}${note ? `: ${note}` : ''}`;
    });
}

/** After a cancel: what happened to each member that had not ended. */
export function describeCancels(view: BatchView): string[] {
  const lines = [`${view.kind} ${view.batch_id} cancel: ${view.status}`];
  for (const cancel of view.cancels ?? []) {
    lines.push(`  ${podName(cancel.pod)} ${cancel.outcome}: ${cancel.detail}`);
  }
  if (view.uncordoned !== undefined) {
    lines.push(
      view.uncordoned
        ? '  the node was uncordoned'
        : '  the node stays cordoned (it was before the drain)',
    );
  }
  return lines;
}
