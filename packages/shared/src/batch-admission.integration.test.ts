import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';

// The per-batch cap on members in flight, beside the cluster-wide and per-node caps.

const caps = { total: 10, perSourceNode: 10 };

let redis: TestRedis;
let store: MigrationStore;

beforeEach(() => {
  redis = testRedis();
  store = new MigrationStore(redis.redis.duplicate(), redis.prefix);
});

afterEach(async () => {
  await redis.cleanup();
});

async function member(podName: string, batchId: string, maxInFlight: number) {
  const record: MigrationRecord = {
    ...newMigrationRecord(randomUUID(), { ...SAMPLE_REQUEST, pod_name: podName }, new Date()),
    batch: { batch_id: batchId, max_in_flight: maxInFlight },
  };
  await store.create(record);
  return record;
}

describe('admission of batch members', () => {
  it('holds members over the batch cap, whatever room the other caps leave', async () => {
    const a = await member('a', 'b1', 2);
    const b = await member('b', 'b1', 2);
    const c = await member('c', 'b1', 2);
    const other = await member('d', 'b2', 1);

    expect(await store.admit(a, caps)).toEqual({ admitted: true });
    expect(await store.admit(b, caps)).toEqual({ admitted: true });
    expect(await store.admit(c, caps)).toEqual({
      admitted: false,
      reason: '2 of 2 migrations in flight in batch b1',
    });
    // Another batch has a cap of its own.
    expect(await store.admit(other, caps)).toEqual({ admitted: true });
  });

  it('still applies the cluster-wide cap to batch members', async () => {
    const a = await member('a', 'b1', 5);
    const b = await member('b', 'b1', 5);
    await store.admit(a, { total: 1, perSourceNode: 5 });

    expect(await store.admit(b, { total: 1, perSourceNode: 5 })).toEqual({
      admitted: false,
      reason: '1 of 1 migrations in flight cluster-wide',
    });
  });

  it('gives the batch place back when a member finishes', async () => {
    const a = await member('a', 'b1', 1);
    const b = await member('b', 'b1', 1);
    await store.admit(a, caps);
    expect((await store.admit(b, caps)).admitted).toBe(false);

    await store.update(a.migration_id, (r) => {
      r.status = 'failed';
      r.finished_at = new Date().toISOString();
    });

    expect(await store.admit(b, caps)).toEqual({ admitted: true });
    expect(await store.batchInFlight('b1')).toBe(1);
  });

  it('admits at most the batch cap among concurrent members', async () => {
    const members = await Promise.all(
      Array.from({ length: 6 }, (_, i) => member(`pod-${String(i)}`, 'b1', 2)),
    );
    const verdicts = await Promise.all(
      members.map((r) => new MigrationStore(redis.redis.duplicate(), redis.prefix).admit(r, caps)),
    );
    expect(verdicts.filter((v) => v.admitted)).toHaveLength(2);
  });
});
