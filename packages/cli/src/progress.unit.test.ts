import { describe, expect, it } from 'vitest';

import type { MigrationEvent } from './migration-event.ts';
import {
  applyEvent,
  eventLine,
  renderFrame,
  startProgress,
  type ProgressState,
} from './progress.ts';

const ID = '6f1c2d3e-0000-4000-8000-000000000001';

function event(type: string, fields: Partial<MigrationEvent> = {}): MigrationEvent {
  return {
    type,
    migration_id: ID,
    at: '2026-12-04T21:00:00.000Z',
    stage: null,
    status: 'running',
    message: `${type} happened`,
    ...fields,
  };
}

function fold(events: MigrationEvent[]): ProgressState {
  return events.reduce(applyEvent, startProgress(ID, 'default/tf-train-0 worker-1 -> worker-2'));
}

const frame = (state: ProgressState, at = '2026-12-04T21:00:10.000Z') =>
  renderFrame(state, { now: new Date(at), width: 120 });

/** A migration's events up to the new pod being Ready, one stage each. */
const UNTIL_READY = [
  event('accepted', { status: 'pending' }),
  event('stage-started', { stage: 'capture', attempt: 1, at: '2026-12-04T21:00:00.000Z' }),
  event('stage-finished', { stage: 'capture', next_stage: 'pod', at: '2026-12-04T21:00:00.400Z' }),
  event('stage-started', { stage: 'pod', attempt: 1, at: '2026-12-04T21:00:01.000Z' }),
  event('new-pod-created', { stage: 'pod', pod: { name: 'tf-train-0-m6f1c2d', node: 'worker-2' } }),
  event('pod-ready', { stage: 'pod', message: 'new pod tf-train-0-m6f1c2d is Ready' }),
];

describe('progress', () => {
  it('draws a bar per stage from the milestones seen so far', () => {
    const lines = frame(fold(UNTIL_READY));

    expect(lines[0]).toBe(`migration ${ID}  default/tf-train-0 worker-1 -> worker-2  running`);
    expect(lines[1]).toBe(`  capture [${'#'.repeat(30)}] 100%  done  0.4 s`);
    expect(lines[2]).toBe(
      `  pod     [${'#'.repeat(21)}${'-'.repeat(9)}]  70%  new pod Ready  9.0 s`,
    );
    expect(lines[3]).toBe(`  metrics [${'-'.repeat(30)}]   0%  pending`);
    expect(lines[4]).toBe('  21:00:00 new pod tf-train-0-m6f1c2d is Ready');
  });

  it('names the new pod once created, and a retry with its attempt', () => {
    const created = fold(UNTIL_READY.slice(0, 5));
    expect(created.stages.pod.note).toBe('new pod tf-train-0-m6f1c2d on worker-2 created');

    const retried = fold([
      ...UNTIL_READY.slice(0, 4),
      event('stage-retrying', {
        stage: 'pod',
        attempt: 1,
        error: {
          code: 'kubernetes-unavailable',
          message: 'apiserver answered 503',
          rolled_back: false,
        },
      }),
    ]);
    expect(retried.stages.pod.phase).toBe('retrying');
    expect(frame(retried)[2]).toContain('retrying: apiserver answered 503');

    const second = applyEvent(retried, event('stage-started', { stage: 'pod', attempt: 2 }));
    expect(second.stages.pod.note).toBe('running (attempt 2)');
    expect(second.stages.pod.startedAt).toBe(retried.stages.pod.startedAt);
  });

  it('fills every bar when the migration completes', () => {
    const state = fold([
      ...UNTIL_READY,
      event('original-removed', { stage: 'pod' }),
      event('stage-finished', { stage: 'pod', next_stage: 'metrics' }),
      event('stage-started', { stage: 'metrics', attempt: 1 }),
      event('stage-finished', { stage: 'metrics', next_stage: null }),
      event('completed', { status: 'completed', message: 'migration completed' }),
    ]);
    const lines = frame(state);

    expect(lines[0]).toMatch(/ completed$/);
    for (const line of lines.slice(1, 4)) expect(line).toContain(`[${'#'.repeat(30)}] 100%  done`);
    expect(lines[4]).toBe('  21:00:00 migration completed');
  });

  it('marks the stage that failed with the error code, the others as they were', () => {
    const state = fold([
      ...UNTIL_READY.slice(0, 5),
      event('rolled-back', { stage: 'pod', undone: ['removed the new pod'] }),
      event('failed', {
        stage: 'pod',
        status: 'failed',
        error: { code: 'new-pod-not-ready', message: 'never Ready', rolled_back: true },
      }),
    ]);

    expect(state.stages.pod.phase).toBe('failed');
    expect(frame(state)[2]).toContain('40%  failed: new-pod-not-ready');
    expect(frame(state)[3]).toContain('0%  pending');
  });

  it('shows why a migration waits, and an event type it does not know by its message', () => {
    const waiting = fold([
      event('accepted', { status: 'pending' }),
      event('waiting', {
        stage: 'capture',
        status: 'waiting',
        reason: '2 of 2 in flight from worker-1',
      }),
    ]);
    expect(frame(waiting)[1]).toContain('2 of 2 in flight from worker-1');

    const novel = applyEvent(
      waiting,
      event('snapshot-taken', { stage: 'capture', message: 'took a snapshot' }),
    );
    expect(novel.stages.capture.note).toBe('took a snapshot');
  });

  it('cuts lines to the terminal, so that redrawing in place stays aligned', () => {
    const lines = renderFrame(fold(UNTIL_READY), {
      now: new Date('2026-12-04T21:00:10Z'),
      width: 40,
    });
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(39);
    expect(lines[1]).toMatch(/…$/);
  });

  it('writes one plain line per event when not on a terminal', () => {
    expect(
      eventLine(
        event('stage-started', { stage: 'capture', message: 'capture stage started (attempt 1)' }),
      ),
    ).toBe('21:00:00 capture stage-started     capture stage started (attempt 1)');
    expect(eventLine(event('accepted', { message: 'migration queued' }))).toBe(
      '21:00:00 -       accepted          migration queued',
    );
  });
});
