import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import {
  IdempotencyKeyReusedError,
  MigrationFinishedError,
  MigrationInProgressError,
  MigrationSwitchStartedError,
} from './errors.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';

// Idempotency keys, cancels, places in flight and retention: the store's controls.

const request = { ...SAMPLE_REQUEST, preserve_pv: true };

let redis: TestRedis;
let store: MigrationStore;

beforeEach(() => {
  redis = testRedis();
  store = new MigrationStore(redis.redis.duplicate(), redis.prefix, { retentionSeconds: 120 });
});

afterEach(async () => {
  await redis.cleanup();
});

/** A store on a connection of its own, as another replica would have. */
function ownStore(): MigrationStore {
  return new MigrationStore(redis.redis.duplicate(), redis.prefix, { retentionSeconds: 120 });
}

function record(podName = request.pod_name, sourceNode = request.source_node): MigrationRecord {
  return newMigrationRecord(
    randomUUID(),
    { ...request, pod_name: podName, source_node: sourceNode },
    new Date(),
  );
}

async function finish(migrationId: string, status: 'completed' | 'failed'): Promise<void> {
  await store.update(migrationId, (r) => {
    r.status = status;
    r.finished_at = new Date().toISOString();
  });
}

describe('idempotency keys', () => {
  const claim = { key: 'client-key-1', fingerprint: 'digest-a' };

  it('answers a repeated key with the first migration and stores nothing new', async () => {
    const first = record();
    const again = record();

    expect(await store.create(first, claim)).toEqual({ record: first, replayed: false });
    const replay = await store.create(again, claim);

    expect(replay.replayed).toBe(true);
    expect(replay.record.migration_id).toBe(first.migration_id);
    expect(await store.get(again.migration_id)).toBeNull();
    expect((await store.stats()).total).toBe(1);
    expect((await store.findIdempotent(claim))?.migration_id).toBe(first.migration_id);
  });

  it('refuses a key used with another request', async () => {
    await store.create(record(), claim);

    await expect(
      store.create(record('other-pod'), { ...claim, fingerprint: 'digest-b' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(store.findIdempotent({ ...claim, fingerprint: 'digest-b' })).rejects.toThrow(
      /different request body/,
    );
  });

  it('lets one of two concurrent requests with the same key create the migration', async () => {
    const racers = [record(), record(), record()];

    const results = await Promise.all(racers.map((r) => ownStore().create(r, claim)));

    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.record.migration_id)).size).toBe(1);
  });

  it('still refuses a second migration of the pod under another key', async () => {
    await store.create(record(), claim);
    await expect(
      store.create(record(), { key: 'client-key-2', fingerprint: 'digest-a' }),
    ).rejects.toBeInstanceOf(MigrationInProgressError);
  });

  it('forgets the key of a record withdrawn after a failed enqueue', async () => {
    const first = record();
    await store.create(first, claim);
    await store.discard(first, claim);

    expect(await store.findIdempotent(claim)).toBeNull();
  });
});

describe('cancel', () => {
  it('ends a migration no stage has begun as cancelled, and frees the pod', async () => {
    const created = record();
    await store.create(created);

    const cancelled = await store.requestCancel(created.migration_id);

    expect(cancelled).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', stage: null, rolled_back: true },
    });
    expect(cancelled.finished_at).not.toBeNull();
    expect(await store.activeMigration('default', request.pod_name)).toBeNull();
    expect((await store.stats()).cancelled).toBe(1);
  });

  it('only flags a running migration: its stage rolls back and ends it', async () => {
    const created = record();
    await store.create(created);
    await store.update(created.migration_id, (r) => {
      r.status = 'running';
      r.stage = 'pod';
    });

    const flagged = await store.requestCancel(created.migration_id);

    expect(flagged.status).toBe('running');
    expect(flagged.cancel_requested_at).not.toBeNull();
  });

  it('refuses once the switch began or the migration ended', async () => {
    const switching = record('switching');
    const ended = record('ended');
    await store.create(switching);
    await store.create(ended);
    await store.update(switching.migration_id, (r) => {
      r.status = 'running';
      r.progress.switch_started = true;
    });
    await finish(ended.migration_id, 'completed');

    await expect(store.requestCancel(switching.migration_id)).rejects.toBeInstanceOf(
      MigrationSwitchStartedError,
    );
    await expect(store.requestCancel(ended.migration_id)).rejects.toBeInstanceOf(
      MigrationFinishedError,
    );
    expect((await store.require(switching.migration_id)).cancel_requested_at).toBeNull();
  });
});

describe('places in flight', () => {
  const caps = { total: 3, perSourceNode: 2 };

  it('admits within the caps, per source node and cluster-wide', async () => {
    const a = record('a', 'worker-1');
    const b = record('b', 'worker-1');
    const c = record('c', 'worker-1');
    const d = record('d', 'worker-2');
    const e = record('e', 'worker-3');
    for (const r of [a, b, c, d, e]) await store.create(r);

    expect(await store.admit(a, caps)).toEqual({ admitted: true });
    expect(await store.admit(b, caps)).toEqual({ admitted: true });
    expect(await store.admit(c, caps)).toEqual({
      admitted: false,
      reason: '2 of 2 migrations in flight from node worker-1',
    });
    expect(await store.admit(d, caps)).toEqual({ admitted: true });
    expect(await store.admit(e, caps)).toEqual({
      admitted: false,
      reason: '3 of 3 migrations in flight cluster-wide',
    });
    // A migration keeps the place it holds when it asks again (a retried attempt).
    expect(await store.admit(a, caps)).toEqual({ admitted: true });
    expect(await store.inFlight('worker-1')).toEqual({ total: 3, fromNode: 2 });
  });

  it('gives the place back in the transaction that finishes the migration', async () => {
    const [a, b] = [record('a'), record('b')];
    await store.create(a);
    await store.create(b);
    await store.admit(a, { total: 1, perSourceNode: 1 });

    expect((await store.admit(b, { total: 1, perSourceNode: 1 })).admitted).toBe(false);
    await finish(a.migration_id, 'failed');

    expect(await store.admit(b, { total: 1, perSourceNode: 1 })).toEqual({ admitted: true });
  });

  it('frees a place whose migration ended without giving it back', async () => {
    const [a, b] = [record('a'), record('b')];
    await store.create(a);
    await store.create(b);
    await store.admit(a, { total: 1, perSourceNode: 1 });
    // As if the finishing transaction had run before the place was taken.
    await redis.redis.set(
      `${redis.prefix}:migration:${a.migration_id}`,
      JSON.stringify({ ...a, status: 'completed' }),
    );

    expect(await store.admit(b, { total: 1, perSourceNode: 1 })).toEqual({ admitted: true });
  });

  it('admits each of many concurrent migrations at most up to the cap', async () => {
    const records = Array.from({ length: 8 }, (_, i) => record(`pod-${String(i)}`));
    for (const r of records) await store.create(r);

    const verdicts = await Promise.all(
      records.map((r) => ownStore().admit(r, { total: 3, perSourceNode: 5 })),
    );

    expect(verdicts.filter((v) => v.admitted)).toHaveLength(3);
  });
});

describe('retention', () => {
  it('keeps a finished record for the retention time, through later writes', async () => {
    const created = record();
    await store.create(created);
    const key = `${redis.prefix}:migration:${created.migration_id}`;
    expect(await redis.redis.ttl(key)).toBe(-1);

    await finish(created.migration_id, 'completed');
    expect(await redis.redis.ttl(key)).toBeGreaterThan(100);

    await store.update(created.migration_id, (r) => {
      r.details.warnings.push('a late note');
    });
    expect(await redis.redis.ttl(key)).toBeGreaterThan(100);
  });

  it('drops expired records from the listing and its index', async () => {
    const [kept, expired] = [record('kept'), record('expired')];
    await store.create(kept);
    await store.create(expired);
    await redis.redis.del(`${redis.prefix}:migration:${expired.migration_id}`);

    expect((await store.list(10)).map((r) => r.migration_id)).toEqual([kept.migration_id]);
    expect(await redis.redis.zcard(`${redis.prefix}:migrations`)).toBe(1);
  });
});
