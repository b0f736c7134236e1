import { randomUUID } from 'node:crypto';

import type { Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { StageWorkerRig, untilCancelled } from '../../../test/support/stage-worker-rig.ts';
import { NothingToMigrateError } from './errors.ts';
import { newMigrationRecord } from './migration.ts';
import type { MigrationStore } from './migration-store.ts';
import type { StagePayload } from './queues.ts';
import type { StageQueues } from './stage-queues.ts';

const request = SAMPLE_REQUEST;

let rig: StageWorkerRig;
let store: MigrationStore;
let queues: StageQueues;
let registry: Registry;

beforeEach(() => {
  rig = new StageWorkerRig();
  ({ store, queues, registry } = rig);
});

afterEach(async () => {
  await rig.close();
});

function settled(worker: Worker<StagePayload>): Promise<'completed' | 'failed'> {
  return new Promise((resolve) => {
    worker.once('completed', () => {
      resolve('completed');
    });
    worker.on('failed', (job) => {
      // A failure that will be retried leaves the job unfinished.
      if (job?.finishedOn) resolve('failed');
    });
  });
}

describe('stage worker', () => {
  it('runs the handler, records the stage and hands the migration on', async () => {
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: async (context) => {
        await context.store.update(context.record.migration_id, (r) => {
          r.details.source_pod_uid = 'uid-1';
        });
        return { next: { stage: 'pod' } };
      },
    });
    const done = settled(worker);
    const record = await rig.submit();

    expect(await done).toBe('completed');
    const after = await store.require(record.migration_id);
    expect(after).toMatchObject({
      status: 'running',
      stage: 'pod',
      message: 'handed to the pod stage',
      details: { source_pod_uid: 'uid-1' },
    });
    expect(after.stages.capture.attempts).toBe(1);
    expect(after.stages.capture.finished_at).not.toBeNull();
    expect(await queues.queue('pod').getJobState(record.migration_id)).toBe('waiting');
  });

  it('retries a transient failure', async () => {
    let calls = 0;
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('connection reset'));
        return Promise.resolve({});
      },
    });
    const done = settled(worker);
    const record = await rig.submit();

    expect(await done).toBe('completed');
    const after = await store.require(record.migration_id);
    expect(calls).toBe(2);
    expect(after.stages.capture).toMatchObject({ attempts: 2, last_error: null });
  });

  it('fails a permanent error at once, after rolling back', async () => {
    const rollbacks: string[] = [];
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => Promise.reject(new NothingToMigrateError('default/tf-train-0')),
      rollback: (context) => {
        rollbacks.push(context.record.migration_id);
        return Promise.resolve(['nothing']);
      },
    });
    const done = settled(worker);
    const record = await rig.submit();

    expect(await done).toBe('failed');
    const after = await store.require(record.migration_id);
    expect(rollbacks).toEqual([record.migration_id]);
    expect(after).toMatchObject({
      status: 'failed',
      error: { code: 'nothing-to-migrate', stage: 'capture', rolled_back: true },
    });
    expect(after.stages.capture.attempts).toBe(1);
    expect((await store.stats()).failed).toBe(1);
    expect(await registry.getSingleMetricAsString('aso_migrations_finished_total')).toMatch(
      /result="failed"} 1/,
    );
  });

  it('carries a migration forward instead of rolling back when the stage salvages it', async () => {
    const rollbacks: string[] = [];
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => Promise.reject(new NothingToMigrateError('default/tf-train-0')),
      rollback: (context) => {
        rollbacks.push(context.record.migration_id);
        return Promise.resolve([]);
      },
      salvage: (_context, error) =>
        Promise.resolve(error instanceof NothingToMigrateError ? { next: { stage: 'pod' } } : null),
    });
    const done = settled(worker);
    const record = await rig.submit();

    expect(await done).toBe('completed');
    expect(rollbacks).toEqual([]);
    expect(await store.require(record.migration_id)).toMatchObject({
      status: 'running',
      stage: 'pod',
      error: null,
    });
    expect(await queues.queue('pod').getJobState(record.migration_id)).toBe('waiting');
  });

  it('fails a migration whose deadline has passed without running the stage', async () => {
    let ran = false;
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => {
        ran = true;
        return Promise.resolve({});
      },
    });
    const done = settled(worker);
    const record = await rig.submit({ createdAt: new Date(Date.now() - 3_600_000) });

    expect(await done).toBe('failed');
    expect(ran).toBe(false);
    expect((await store.require(record.migration_id)).error?.code).toBe('deadline-exceeded');
  });
});

describe('stage worker controls', () => {
  it('holds a migration over the cap as waiting, then lets it in when a place frees', async () => {
    const started: string[] = [];
    rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      admission: { caps: { total: 1, perSourceNode: 1 }, retryDelayMs: 100 },
      run: (context) => {
        started.push(context.record.request.pod_name);
        return Promise.resolve({});
      },
    });

    const first = await rig.submit({ podName: 'first' });
    await vi.waitFor(() => {
      expect(started).toEqual(['first']);
    });
    const second = await rig.submit({ podName: 'second' });
    await vi.waitFor(async () => {
      expect(await store.require(second.migration_id)).toMatchObject({
        status: 'waiting',
        message: 'waiting for a place in flight: 1 of 1 migrations in flight cluster-wide',
      });
    });
    expect(started).toEqual(['first']);

    await store.update(first.migration_id, (r) => {
      r.status = 'completed';
    });
    await vi.waitFor(() => {
      expect(started).toEqual(['first', 'second']);
    });
    const after = await store.require(second.migration_id);
    // Waiting spends no attempt: BullMQ's retries stay for real failures.
    expect(after.stages.capture.attempts).toBe(1);
  });

  it('fails a migration whose deadline passes while it waits for a place', async () => {
    const caps = { total: 1, perSourceNode: 1 };
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      admission: { caps, retryDelayMs: 100 },
      run: () => Promise.resolve({}),
    });
    // Another migration holds the only place and keeps it.
    const holder = newMigrationRecord(randomUUID(), { ...request, pod_name: 'holder' }, new Date());
    await store.create(holder);
    await store.admit(holder, caps);
    const done = settled(worker);
    // Created 599.5 s ago with a 600 s timeout: its deadline passes while it waits.
    const late = await rig.submit({ createdAt: new Date(Date.now() - 599_500), podName: 'late' });

    expect(await done).toBe('failed');
    expect(await store.require(late.migration_id)).toMatchObject({
      status: 'failed',
      error: { code: 'deadline-exceeded', stage: 'capture' },
    });
  });

  it('aborts a running attempt on cancel, rolls back and ends the migration cancelled', async () => {
    const rollbacks: string[] = [];
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: (context) => untilCancelled(context.signal),
      rollback: (context) => {
        rollbacks.push(context.record.migration_id);
        return Promise.resolve(['the new pod']);
      },
    });
    const done = settled(worker);
    const record = await rig.submit();
    await vi.waitFor(async () => {
      expect((await store.require(record.migration_id)).status).toBe('running');
    });

    await store.requestCancel(record.migration_id);

    expect(await done).toBe('completed');
    expect(rollbacks).toEqual([record.migration_id]);
    expect(await store.require(record.migration_id)).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', stage: 'capture', rolled_back: true },
    });
    expect(await store.activeMigration('default', request.pod_name)).toBeNull();
    expect(await registry.getSingleMetricAsString('aso_migrations_finished_total')).toMatch(
      /result="cancelled"} 1/,
    );
  });

  it('ends a migration cancelled between stages without running the next one', async () => {
    let ran = false;
    const worker = rig.startWorker({
      stage: 'pod',
      honoursDeadline: true,
      run: () => {
        ran = true;
        return Promise.resolve({});
      },
      rollback: () => Promise.resolve([]),
    });
    const done = settled(worker);
    const record = newMigrationRecord(randomUUID(), request, new Date());
    await store.create(record);
    await store.update(record.migration_id, (r) => {
      r.status = 'running';
      r.stage = 'pod';
    });
    await store.requestCancel(record.migration_id);
    await queues.enqueue('pod', record.migration_id);

    expect(await done).toBe('completed');
    expect(ran).toBe(false);
    expect((await store.require(record.migration_id)).status).toBe('cancelled');
  });

  it('skips the job of a migration cancelled while it waited', async () => {
    let ran = false;
    const worker = rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      run: () => {
        ran = true;
        return Promise.resolve({});
      },
    });
    await worker.pause();
    const done = settled(worker);
    const record = await rig.submit();
    await store.requestCancel(record.migration_id);
    await worker.resume();

    expect(await done).toBe('completed');
    expect(ran).toBe(false);
    expect((await store.require(record.migration_id)).status).toBe('cancelled');
  });
});
