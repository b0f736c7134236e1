import { describe, expect, it } from 'vitest';

import { parseCommandLine } from './args.ts';
import {
  BATCH_POLL_MAX_MS,
  BATCH_POLL_MS,
  batchBody,
  drainBody,
  fitScreen,
  groupExitCode,
  nextPollMs,
} from './batch-commands.ts';
import {
  describeBatch,
  describeCancels,
  memberChanges,
  type BatchMember,
  type BatchView,
} from './batch-view.ts';
import { EXIT } from './cli-error.ts';

const BATCH = '0b0b0b0b-0000-4000-8000-000000000001';

function member(name: string, status: string, fields: Partial<BatchMember> = {}): BatchMember {
  return {
    pod: { namespace: 'ml', name },
    source_node: 'worker-1',
    target_node: 'worker-2',
    migration_id: null,
    refused: null,
    status,
    message: `migration ${status}`,
    error: null,
    ...fields,
  };
}

function view(members: BatchMember[], fields: Partial<BatchView> = {}): BatchView {
  const byStatus: Record<string, number> = {};
  for (const m of members) byStatus[m.status] = (byStatus[m.status] ?? 0) + 1;
  return {
    batch_id: BATCH,
    kind: 'batch',
    status: 'running',
    created_at: '2026-12-04T21:00:00Z',
    max_in_flight: 2,
    target_node: 'any',
    selection: { namespace: 'ml', selector: 'app=trainer' },
    members,
    drain: null,
    summary: { members: members.length, by_status: byStatus },
    ...fields,
  };
}

describe('batches and drains for people', () => {
  it('shows a bar of ended members and a row per member', () => {
    const lines = describeBatch(
      view([
        member('a', 'completed'),
        member('b', 'running'),
        member('c', 'refused', {
          target_node: null,
          refused: { code: 'insufficient-capacity', detail: 'no node fits' },
        }),
        member('d', 'waiting'),
      ]),
      20,
    );

    expect(lines[0]).toBe(`batch ${BATCH}  ml: app=trainer -> any  running`);
    expect(lines[1]).toBe(
      '  [##########----------] 2/4 ended; completed 1, running 1, refused 1, waiting 1; at most 2 in flight',
    );
    expect(lines[2]).toMatch(/^ {2}POD\s+FROM\s+TO\s+STATUS\s+MIGRATION\s+NOTE$/);
    expect(lines[5]).toMatch(
      /^ {2}ml\/c\s+worker-1\s+-\s+refused\s+-\s+insufficient-capacity: no node fits$/,
    );
  });

  it('lists the pods a drain leaves behind, with why', () => {
    const drain = view([member('a', 'completed')], {
      kind: 'drain',
      status: 'completed',
      selection: { node: 'worker-1' },
      drain: {
        node: 'worker-1',
        left: [
          {
            pod: { namespace: 'kube-system', name: 'agent-x' },
            code: 'daemonset',
            reason: 'a DaemonSet runs one pod per node',
          },
        ],
      },
    });

    const lines = describeBatch(drain);
    expect(lines[0]).toBe(`drain ${BATCH}  node worker-1 -> any  completed`);
    expect(lines.at(-1)).toBe(
      '  left on worker-1: kube-system/agent-x (daemonset): a DaemonSet runs one pod per node',
    );
    expect(groupExitCode(drain)).toBe(EXIT.ok);
    expect(groupExitCode({ ...drain, status: 'partially-failed' })).toBe(EXIT.migrationFailed);
  });

  it('fits the live frame of a large batch to the terminal', () => {
    const large = view(Array.from({ length: 50 }, (_, i) => member(`pod-${i}`, 'waiting')));
    const lines = fitScreen(describeBatch(large), { width: 60, height: 12 });

    expect(lines).toHaveLength(10);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(59);
    expect(lines.at(-1)).toBe('  ... 44 more lines: aso batch get or drain get shows all');
  });

  it('writes a line only for members whose status changed', () => {
    const before = view([member('a', 'running'), member('b', 'waiting')]);
    const after = view([member('a', 'completed'), member('b', 'waiting')]);

    expect(memberChanges(before, after)).toEqual(['ml/a completed']);
    expect(memberChanges(after, after)).toEqual([]);
  });

  it('tells what a cancel did to each member, and the node of a drain', () => {
    const cancelled = view([member('a', 'cancelled')], {
      kind: 'drain',
      status: 'cancelled',
      cancels: [
        {
          migration_id: 'm-1',
          pod: { namespace: 'ml', name: 'a' },
          outcome: 'cancelled',
          detail: 'ended before any stage began',
        },
      ],
      uncordoned: true,
    });

    expect(describeCancels(cancelled)).toEqual([
      `drain ${BATCH} cancel: cancelled`,
      '  ml/a cancelled: ended before any stage began',
      '  the node was uncordoned',
    ]);
  });

  it('builds the request bodies, leaving the API its defaults', () => {
    const byName = parseCommandLine([
      'batch',
      'a',
      'b',
      '-n',
      'ml',
      '--max-in-flight',
      '3',
    ]).invocation;
    const bySelector = parseCommandLine([
      'batch',
      '-l',
      'app=x',
      '--to',
      'worker-2',
      '--timeout',
      '120',
    ]).invocation;
    const drain = parseCommandLine(['drain', 'worker-1', '--force']).invocation;
    if (byName.command !== 'batch' || bySelector.command !== 'batch' || drain.command !== 'drain') {
      throw new Error('parsed as another command');
    }

    expect(batchBody(byName)).toEqual({
      pods: [{ name: 'a' }, { name: 'b' }],
      namespace: 'ml',
      max_in_flight: 3,
      preserve_pv: false,
      force: false,
    });
    expect(batchBody(bySelector)).toEqual({
      selector: 'app=x',
      target_node: 'worker-2',
      preserve_pv: false,
      force: false,
      timeout: 120,
    });
    expect(drainBody(drain)).toEqual({ node: 'worker-1', preserve_pv: false, force: true });
  });

  it('reads a batch every 2 s while it changes, less often up to 5 s while it does not', () => {
    expect(BATCH_POLL_MS).toBe(2_000);
    expect(nextPollMs(BATCH_POLL_MS, false)).toBe(3_000);
    expect(nextPollMs(3_000, false)).toBe(4_500);
    expect(nextPollMs(4_500, false)).toBe(BATCH_POLL_MAX_MS);
    expect(nextPollMs(BATCH_POLL_MAX_MS, false)).toBe(BATCH_POLL_MAX_MS);
    expect(nextPollMs(BATCH_POLL_MAX_MS, true)).toBe(BATCH_POLL_MS);
  });
});
