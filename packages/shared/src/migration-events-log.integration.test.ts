import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { createLogger } from './logger.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import {
  DEFAULT_EVENT_LOG_LENGTH,
  derivedTerminalEvent,
  migrationEventsKey,
  MigrationEventLog,
  type MigrationEvent,
} from './migration-events-log.ts';
import { MigrationStore } from './migration-store.ts';
import { enqueueMigration } from './migration-submission.ts';
import { createRedis } from './redis.ts';
import { StageQueues } from './stage-queues.ts';

const RETENTION_SECONDS = 600;
const silent = createLogger('events-test', 'silent');

let redis: TestRedis;
let store: MigrationStore;

beforeEach(() => {
  redis = testRedis();
  store = new MigrationStore(redis.redis.duplicate(), redis.prefix, {
    retentionSeconds: RETENTION_SECONDS,
  });
});

afterEach(async () => {
  await redis.cleanup();
});

async function stored(): Promise<MigrationRecord> {
  const record = newMigrationRecord(
    randomUUID(),
    { ...SAMPLE_REQUEST, pod_name: `pod-${randomUUID().slice(0, 6)}` },
    new Date(),
  );
  await store.create(record);
  return record;
}

function event(record: MigrationRecord, message: string): MigrationEvent {
  return {
    type: 'stage-started',
    migration_id: record.migration_id,
    at: new Date().toISOString(),
    stage: 'capture',
    status: 'running',
    message,
    attempt: 1,
  };
}

function eventsKey(record: MigrationRecord): string {
  return migrationEventsKey(redis.prefix, record.migration_id);
}

describe('migration event log', () => {
  it('keeps events in order and resumes right after a given id', async () => {
    const record = await stored();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await store.events.append(event(record, `event ${i}`));
      expect(id).toMatch(/^\d+-\d+$/);
      ids.push(id ?? '');
    }

    const all = await store.events.read(record.migration_id, null);
    expect(all.map((logged) => logged.id)).toEqual(ids);
    expect(all.map((logged) => logged.event.message)).toEqual(ids.map((_, i) => `event ${i}`));

    const rest = await store.events.read(record.migration_id, ids[3] ?? '');
    expect(rest.map((logged) => logged.id)).toEqual(ids.slice(4));
    expect(await store.events.read(record.migration_id, ids[9] ?? '')).toEqual([]);
    expect((await store.events.last(record.migration_id))?.id).toBe(ids[9]);
  });

  it('reads a long log page by page without a gap or a repeat', async () => {
    const record = await stored();
    for (let i = 0; i < 25; i++) await store.events.append(event(record, `event ${i}`));

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await store.events.read(record.migration_id, after, 7);
      if (page.length === 0) break;
      seen.push(...page.map((logged) => logged.event.message));
      after = page.at(-1)?.id ?? null;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `event ${i}`));
  });

  it('writes nothing for a migration whose record does not exist', async () => {
    const ghost = newMigrationRecord(randomUUID(), SAMPLE_REQUEST, new Date());

    expect(await store.events.append(event(ghost, 'lost'))).toBeNull();
    expect(await redis.redis.exists(eventsKey(ghost))).toBe(0);
    expect(await store.events.read(ghost.migration_id, null)).toEqual([]);
    expect(await store.events.last(ghost.migration_id)).toBeNull();
  });

  it('caps the log near its length, dropping the oldest events', async () => {
    const record = await stored();
    const total = DEFAULT_EVENT_LOG_LENGTH * 3;
    const pipeline = Array.from({ length: total }, (_, i) =>
      store.events.append(event(record, `event ${i}`)),
    );
    await Promise.all(pipeline);

    const length = await redis.redis.xlen(eventsKey(record));
    // MAXLEN ~ trims whole blocks of at most a hundred entries.
    expect(length).toBeGreaterThanOrEqual(DEFAULT_EVENT_LOG_LENGTH);
    expect(length).toBeLessThanOrEqual(DEFAULT_EVENT_LOG_LENGTH + 100);
    const kept = await store.events.read(record.migration_id, null, total);
    expect(kept.at(-1)?.event.message).toBe(`event ${total - 1}`);
    expect(kept[0]?.event.message).not.toBe('event 0');
  });

  it('expires with its record: the retention after the last event, then the record’s own', async () => {
    const record = await stored();
    await store.events.append(event(record, 'running'));
    const whileRunning = await redis.redis.pttl(eventsKey(record));
    expect(whileRunning).toBeGreaterThan((RETENTION_SECONDS - 5) * 1000);
    expect(whileRunning).toBeLessThanOrEqual(RETENTION_SECONDS * 1000);

    // A finished record expires; make its expiry short to tell the two apart.
    await store.update(record.migration_id, (r) => {
      r.status = 'completed';
      r.finished_at = new Date().toISOString();
    });
    await redis.redis.expire(`${redis.prefix}:migration:${record.migration_id}`, 30);
    await store.events.append({ ...event(record, 'done'), type: 'completed', status: 'completed' });

    const afterEnd = await redis.redis.pttl(eventsKey(record));
    expect(afterEnd).toBeGreaterThan(25_000);
    expect(afterEnd).toBeLessThanOrEqual(30_000);
  });

  it('skips entries it cannot read instead of failing the whole read', async () => {
    const record = await stored();
    await store.events.append(event(record, 'first'));
    await redis.redis.xadd(eventsKey(record), '*', 'event', '{"type":"from-the-future"}');
    await redis.redis.xadd(eventsKey(record), '*', 'other', 'x');
    await store.events.append(event(record, 'last'));

    const read = await store.events.read(record.migration_id, null);
    expect(read.map((logged) => logged.event.message)).toEqual(['first', 'last']);
  });

  it('never throws from emit: a Redis error is logged and the caller goes on', async () => {
    const record = await stored();
    const broken = redis.redis.duplicate();
    await broken.quit();
    const log = new MigrationEventLog(broken, redis.prefix, RETENTION_SECONDS);
    const warnings: unknown[] = [];
    const logger = createLogger('events-test', 'silent');
    logger.warn = (fields: unknown) => {
      warnings.push(fields);
    };

    await expect(
      log.emit(record, { type: 'accepted', message: 'accepted' }, logger),
    ).resolves.toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('emits an event stamped from the record', async () => {
    const record = await stored();
    await store.events.emit(record, { type: 'accepted', message: 'migration accepted' }, silent);

    const [logged] = await store.events.read(record.migration_id, null);
    expect(logged?.event).toMatchObject({
      type: 'accepted',
      migration_id: record.migration_id,
      stage: null,
      status: 'pending',
      message: 'migration accepted',
    });
  });

  it('tells an accepted migration before its first job can start', async () => {
    const queues = new StageQueues(createRedis(redis.url, 'producer', 'test:queues'), redis.prefix);
    const record = newMigrationRecord(randomUUID(), SAMPLE_REQUEST, new Date());
    const again = newMigrationRecord(
      randomUUID(),
      { ...SAMPLE_REQUEST, pod_name: 'p2' },
      new Date(),
    );
    try {
      await enqueueMigration({ store, queues }, record);
      const replay = { key: 'k', fingerprint: 'f' };
      await enqueueMigration({ store, queues }, again, replay);
      await enqueueMigration({ store, queues }, again, replay);
    } finally {
      await queues.close();
    }

    const [accepted] = await store.events.read(record.migration_id, null);
    expect(accepted?.event).toMatchObject({ type: 'accepted', status: 'pending', stage: null });
    // A replayed Idempotency-Key is the same migration: told once.
    const told = await store.events.read(again.migration_id, null);
    expect(told.map((logged) => logged.event.type)).toEqual(['accepted']);
  });

  it('tells a cancel, and the end of a migration that no stage had begun', async () => {
    const pending = await stored();
    await store.requestCancel(pending.migration_id);

    const log = (await store.events.read(pending.migration_id, null)).map((l) => l.event);
    expect(log.map((e) => e.type)).toEqual(['cancel-requested', 'cancelled']);
    expect(log[1]).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', rolled_back: true },
    });
  });

  it('tells the cancel of a running migration once, however often it is asked', async () => {
    const running = await stored();
    await store.update(running.migration_id, (r) => {
      r.status = 'running';
      r.stage = 'pod';
    });
    await store.requestCancel(running.migration_id);
    await store.requestCancel(running.migration_id);

    const log = (await store.events.read(running.migration_id, null)).map((l) => l.event);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ type: 'cancel-requested', status: 'running', stage: 'pod' });
  });

  it('derives a terminal event from an ended record only', () => {
    const record = newMigrationRecord(randomUUID(), SAMPLE_REQUEST, new Date());
    expect(derivedTerminalEvent(record)).toBeNull();

    record.status = 'failed';
    record.error = { code: 'pod-not-found', message: 'gone', stage: 'capture', rolled_back: true };
    record.finished_at = '2026-12-04T21:00:00.000Z';
    expect(derivedTerminalEvent(record)).toMatchObject({
      type: 'failed',
      stage: 'capture',
      status: 'failed',
      at: '2026-12-04T21:00:00.000Z',
      error: { code: 'pod-not-found', message: 'gone', rolled_back: true },
      derived: true,
    });
  });
});
