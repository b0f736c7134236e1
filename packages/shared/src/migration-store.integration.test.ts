import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { MigrationNotFoundError } from './errors.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { MigrationStore } from './migration-store.ts';

const request = { ...SAMPLE_REQUEST, preserve_pv: true };

let redis: TestRedis;
let store: MigrationStore;

beforeEach(() => {
  redis = testRedis();
  store = new MigrationStore(redis.redis.duplicate(), redis.prefix);
});

afterEach(async () => {
  await redis.cleanup();
});

function record(createdAt: Date, podName = request.pod_name): MigrationRecord {
  return newMigrationRecord(randomUUID(), { ...request, pod_name: podName }, createdAt);
}

describe('migration store', () => {
  it('keeps records and lists the newest first', async () => {
    const older = record(new Date('2026-01-01T00:00:00Z'));
    const newer = record(new Date('2026-01-02T00:00:00Z'), 'other-pod');
    await store.create(older);
    await store.create(newer);

    expect(await store.get(older.migration_id)).toEqual(older);
    expect((await store.list(10)).map((r) => r.migration_id)).toEqual([
      newer.migration_id,
      older.migration_id,
    ]);
    expect((await store.list(1)).map((r) => r.migration_id)).toEqual([newer.migration_id]);
  });

  it('reports an unknown id', async () => {
    const id = randomUUID();
    expect(await store.get(id)).toBeNull();
    await expect(store.require(id)).rejects.toBeInstanceOf(MigrationNotFoundError);
    await expect(store.update(id, () => undefined)).rejects.toBeInstanceOf(MigrationNotFoundError);
  });

  it('applies concurrent updates without losing any', async () => {
    const created = record(new Date());
    await store.create(created);
    const other = new MigrationStore(redis.redis.duplicate(), redis.prefix);

    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? store : other).update(created.migration_id, (r) => {
          r.details.warnings.push(`w${i}`);
        }),
      ),
    );

    const updated = await store.require(created.migration_id);
    expect(updated.details.warnings).toHaveLength(20);
  });

  it('books the outcome once, in the transaction that finishes the migration', async () => {
    const created = record(new Date('2026-01-01T00:00:00Z'));
    await store.create(created);

    const finish = (r: MigrationRecord) => {
      r.status = 'completed';
      r.duration_ms = 4200;
      r.details.savings = {
        requested: { cpu_millicores: 500, memory_bytes: 1024, cpu_percent: 31, memory_percent: 19 },
        measured: { status: 'unmeasured', reason: 'no sample' },
      };
    };
    await store.update(created.migration_id, finish);
    await store.update(created.migration_id, finish);

    const stats = await store.stats();
    expect(stats).toMatchObject({ total: 1, completed: 1, failed: 0, durations_ms: [4200] });
    expect(stats.savings).toMatchObject({ requested_count: 1, requested_cpu_millicores: 500 });
    expect(stats.savings['measured_count']).toBeUndefined();
  });

  it('leaves a record unchanged when the mutation throws', async () => {
    const created = record(new Date());
    await store.create(created);

    await expect(
      store.update(created.migration_id, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.get(created.migration_id)).toEqual(created);
  });

  it('withdraws a record whose job was never queued', async () => {
    const created = record(new Date());
    await store.create(created);
    await store.discard(created);

    expect(await store.get(created.migration_id)).toBeNull();
    expect(await store.list(10)).toEqual([]);
    expect((await store.stats()).total).toBe(0);
  });
});

describe('pod lock', () => {
  it('allows one unfinished migration per pod, and frees the pod when it finishes', async () => {
    const first = record(new Date());
    await store.create(first);

    const second = record(new Date());
    await expect(store.create(second)).rejects.toMatchObject({
      code: 'migration-in-progress',
      migrationId: first.migration_id,
    });
    expect(await store.get(second.migration_id)).toBeNull();

    await store.update(first.migration_id, (r) => {
      r.status = 'failed';
    });
    await store.create(second);
    expect((await store.require(second.migration_id)).status).toBe('pending');
  });

  it('frees the pod when a record is withdrawn', async () => {
    const first = record(new Date());
    await store.create(first);
    await store.discard(first);

    await expect(store.create(record(new Date()))).resolves.toMatchObject({ replayed: false });
  });

  it('lets exactly one of many concurrent creates for a pod through, from several connections', async () => {
    const stores = [store, new MigrationStore(redis.redis.duplicate(), redis.prefix)];
    const attempts = Array.from({ length: 12 }, () => record(new Date()));

    const outcomes = await Promise.allSettled(
      attempts.map((attempt, i) => (stores[i % 2] ?? store).create(attempt)),
    );

    const created = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(created).toHaveLength(1);
    expect((await store.list(20)).map((r) => r.migration_id)).toHaveLength(1);
    expect((await store.stats()).total).toBe(1);
  });

  it('gives a remembered Idempotency-Key to a new migration once its own has expired', async () => {
    const claim = { key: 'retry-1', fingerprint: 'f1' };
    const first = record(new Date());
    await store.create(first, claim);
    await redis.redis.del(`${redis.prefix}:migration:${first.migration_id}`);

    const second = record(new Date());
    await expect(store.create(second, claim)).resolves.toMatchObject({ replayed: false });
    await expect(store.create(record(new Date()), claim)).resolves.toMatchObject({
      replayed: true,
      record: { migration_id: second.migration_id },
    });
  });

  it('opens the event log with the first event only when the migration is created', async () => {
    const first = record(new Date());
    const refused = record(new Date());
    const accepted = { type: 'accepted', message: 'migration accepted' } as const;

    await store.create(first, undefined, accepted);
    await expect(store.create(refused, undefined, accepted)).rejects.toThrow(
      /already being migrated/,
    );

    const [entry, ...more] = await store.events.read(first.migration_id, null);
    expect(more).toEqual([]);
    expect(entry?.event).toMatchObject({
      type: 'accepted',
      migration_id: first.migration_id,
      stage: null,
      status: 'pending',
      message: 'migration accepted',
    });
    expect(await store.events.read(refused.migration_id, null)).toEqual([]);
    // The log expires with the retention time while its record has none.
    const ttl = await redis.redis.pttl(`${redis.prefix}:migration:${first.migration_id}:events`);
    expect(ttl).toBeGreaterThan(0);
  });
});
