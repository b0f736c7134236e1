import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { StageWorkerRig } from '../../../test/support/stage-worker-rig.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';

// A batch member's timeout counts from its admission: the wait for its turn behind
// the caps spends none of it. A single migration keeps counting from its creation
// (stage-worker.integration.test.ts shows it failing while it waits).

const caps = { total: 1, perSourceNode: 1 };
let rig: StageWorkerRig;

beforeEach(() => {
  rig = new StageWorkerRig();
});

afterEach(async () => {
  await rig.close();
});

describe('a batch member waiting for its place', () => {
  it('gets a fresh deadline when admitted and runs, however long it waited', async () => {
    const started: MigrationRecord[] = [];
    rig.startWorker({
      stage: 'capture',
      honoursDeadline: true,
      admission: { caps, retryDelayMs: 100 },
      run: (context) => {
        started.push(context.record);
        return Promise.resolve({});
      },
    });
    const holder = newMigrationRecord(
      randomUUID(),
      { ...SAMPLE_REQUEST, pod_name: 'holder' },
      new Date(),
    );
    await rig.store.create(holder);
    await rig.store.admit(holder, caps);

    // Created 599.5 s ago with a 600 s timeout: its creation deadline passes as it waits.
    const member: MigrationRecord = {
      ...newMigrationRecord(
        randomUUID(),
        { ...SAMPLE_REQUEST, pod_name: 'member' },
        new Date(Date.now() - 599_500),
      ),
      batch: { batch_id: 'b1', max_in_flight: 5 },
    };
    await rig.store.create(member);
    await rig.queues.enqueue('capture', member.migration_id);
    await vi.waitFor(async () => {
      expect((await rig.store.require(member.migration_id)).status).toBe('waiting');
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await rig.store.require(member.migration_id)).status).toBe('waiting');

    const admittedAfter = Date.now();
    await rig.store.update(holder.migration_id, (r) => {
      r.status = 'completed';
    });
    await vi.waitFor(() => {
      expect(started.map((r) => r.request.pod_name)).toEqual(['member']);
    });

    const after = await rig.store.require(member.migration_id);
    expect(after.status).not.toBe('failed');
    expect(Date.parse(after.deadline_at)).toBeGreaterThanOrEqual(admittedAfter + 600_000 - 1000);
  });
});
