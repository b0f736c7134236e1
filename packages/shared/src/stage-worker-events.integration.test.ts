import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { StageWorkerRig, untilCancelled } from '../../../test/support/stage-worker-rig.ts';
import { NothingToMigrateError } from './errors.ts';
import type { MigrationEvent } from './migration-events-log.ts';
import type { MigrationStore } from './migration-store.ts';
import type { StageHandler } from './stage-worker.ts';

let rig: StageWorkerRig;
let store: MigrationStore;

beforeEach(() => {
  rig = new StageWorkerRig();
  store = rig.store;
});

afterEach(async () => {
  await rig.close();
});

/** Two at once, so that a second migration's events can interleave with the first's. */
function startWorker(handler: StageHandler): void {
  rig.startWorker(handler, 2);
}

async function events(migrationId: string): Promise<MigrationEvent[]> {
  return (await store.events.read(migrationId, null)).map((logged) => logged.event);
}

/** Waits until the migration's log holds an event of this type; returns the whole log. */
async function untilEvent(migrationId: string, type: string): Promise<MigrationEvent[]> {
  let seen: MigrationEvent[] = [];
  await vi.waitFor(
    async () => {
      seen = await events(migrationId);
      expect(seen.map((e) => e.type)).toContain(type);
    },
    { timeout: 10_000, interval: 50 },
  );
  return seen;
}

describe('stage worker events', () => {
  it('tells each stage start and end, then the completion, in order', async () => {
    startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => Promise.resolve({ next: { stage: 'metrics' } }),
    });
    startWorker({
      stage: 'metrics',
      honoursDeadline: false,
      run: async (context) => {
        await context.store.update(context.record.migration_id, (r) => {
          r.status = 'completed';
          r.message = 'migration completed';
          r.finished_at = new Date().toISOString();
        });
        return {};
      },
    });
    const record = await rig.submit();

    const log = await untilEvent(record.migration_id, 'completed');
    expect(log.map((e) => [e.type, e.stage])).toEqual([
      ['stage-started', 'capture'],
      ['stage-finished', 'capture'],
      ['stage-started', 'metrics'],
      ['stage-finished', 'metrics'],
      ['completed', 'metrics'],
    ]);
    expect(log[0]).toMatchObject({ attempt: 1, status: 'running' });
    expect(log[1]).toMatchObject({ next_stage: 'metrics' });
    expect(log[3]).toMatchObject({ next_stage: null });
    expect(log[4]).toMatchObject({ status: 'completed', message: 'migration completed' });
    expect(log.every((e) => e.migration_id === record.migration_id)).toBe(true);
  });

  it('tells a transient failure that will be retried, then the next attempt', async () => {
    let calls = 0;
    startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('connection reset'));
        return Promise.resolve({});
      },
    });
    const record = await rig.submit();

    await vi.waitFor(
      async () => {
        expect((await events(record.migration_id)).map((e) => e.type)).toEqual([
          'stage-started',
          'stage-retrying',
          'stage-started',
          'stage-finished',
        ]);
      },
      { timeout: 15_000, interval: 100 },
    );
    const log = await events(record.migration_id);
    expect(log[1]).toMatchObject({
      attempt: 1,
      error: { code: 'internal-error', message: 'connection reset' },
    });
    expect(log[2]).toMatchObject({ attempt: 2 });
  });

  it('tells the rollback and the failure with its code and reason', async () => {
    startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => Promise.reject(new NothingToMigrateError('default/tf-train-0')),
      rollback: () => Promise.resolve(['deleted new pod tf-train-0-m123456']),
    });
    const record = await rig.submit();

    const log = await untilEvent(record.migration_id, 'failed');
    expect(log.map((e) => e.type)).toEqual(['stage-started', 'rolled-back', 'failed']);
    expect(log[1]).toMatchObject({
      undone: ['deleted new pod tf-train-0-m123456'],
      message: 'rolled back: deleted new pod tf-train-0-m123456',
    });
    expect(log[2]).toMatchObject({
      status: 'failed',
      stage: 'capture',
      error: { code: 'nothing-to-migrate', rolled_back: true },
    });
  });

  it('tells a cancel that rolls a running stage back', async () => {
    startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: (context) => untilCancelled(context.signal),
      rollback: () => Promise.resolve([]),
    });
    const record = await rig.submit();
    await untilEvent(record.migration_id, 'stage-started');

    await store.requestCancel(record.migration_id);

    const log = await untilEvent(record.migration_id, 'cancelled');
    expect(log.map((e) => e.type)).toEqual([
      'stage-started',
      'cancel-requested',
      'rolled-back',
      'cancelled',
    ]);
    expect(log[3]).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', rolled_back: true },
    });
  });

  it('tells once why a migration waits for a place in flight', async () => {
    startWorker({
      stage: 'capture',
      honoursDeadline: true,
      admission: { caps: { total: 1, perSourceNode: 1 }, retryDelayMs: 50 },
      run: (context) => untilCancelled(context.signal),
      rollback: () => Promise.resolve([]),
    });
    const first = await rig.submit({ podName: 'first' });
    await untilEvent(first.migration_id, 'stage-started');
    const second = await rig.submit({ podName: 'second' });

    const log = await untilEvent(second.migration_id, 'waiting');
    expect(log[0]).toMatchObject({
      status: 'waiting',
      reason: '1 of 1 migrations in flight cluster-wide',
    });
    // Asked again several times meanwhile, it is told once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await events(second.migration_id)).map((e) => e.type)).toEqual(['waiting']);

    await store.requestCancel(second.migration_id);
    await store.requestCancel(first.migration_id);
    await untilEvent(first.migration_id, 'cancelled');
  });
});
