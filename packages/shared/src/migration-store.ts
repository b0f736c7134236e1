import type { Redis } from 'ioredis';

import { MigrationInProgressError, MigrationNotFoundError } from './errors.ts';
import { isFinished, type MigrationRecord } from './migration.ts';
import type { RedisClient } from './redis.ts';

/** How many finished durations the KPI percentiles rest on. */
const DURATION_SAMPLES = 1000;

/** How often an update retries when another writer changed the record under it. */
const UPDATE_ATTEMPTS = 20;

export interface MigrationStats {
  total: number;
  completed: number;
  failed: number;
  durations_ms: number[];
  savings: Record<string, number>;
}

type Mutation = (record: MigrationRecord) => void;

/**
 * Migration records in Redis: one JSON document per migration, an index sorted by
 * creation time for listing, and running totals for the KPIs, updated in the same
 * transaction that finishes a migration so the figures never drift from the records.
 */
export class MigrationStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  // WATCH belongs to a connection and any EXEC clears it, so every transaction on
  // this store's connection takes its turn. The connection must not be shared.
  private turn: Promise<unknown> = Promise.resolve();

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /**
   * Stores a new migration and takes its pod's lock: one migration per pod at a
   * time. Refuses with MigrationInProgressError while an unfinished one holds it.
   */
  create(record: MigrationRecord): Promise<void> {
    return this.inTurn(async () => {
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        if (await this.tryCreate(record)) return;
      }
      throw new Error(`the lock of pod ${podOf(record)} kept changing; gave up`);
    });
  }

  /** The unfinished migration that holds a pod's lock, if any. */
  async activeMigration(namespace: string, podName: string): Promise<MigrationRecord | null> {
    const holder = await this.redis.get(`${this.prefix}:pod-lock:${namespace}/${podName}`);
    const held = holder === null ? null : await this.get(holder);
    return held && !isFinished(held) ? held : null;
  }

  private async tryCreate(record: MigrationRecord): Promise<boolean> {
    const lock = this.podLockKey(record);
    await this.redis.watch(lock);

    const held = await this.activeMigration(record.request.pod_namespace, record.request.pod_name);
    if (held) {
      await this.redis.unwatch();
      throw new MigrationInProgressError(podOf(record), held.migration_id);
    }

    const results = await this.redis
      .multi()
      .set(lock, record.migration_id)
      .set(this.recordKey(record.migration_id), JSON.stringify(record), 'NX')
      .zadd(this.indexKey(), Date.parse(record.created_at), record.migration_id)
      .hincrby(this.statsKey(), 'total', 1)
      .exec();
    if (results === null) return false;
    throwOnTransactionError(results);
    return true;
  }

  async get(migrationId: string): Promise<MigrationRecord | null> {
    const raw = await this.redis.get(this.recordKey(migrationId));
    return raw === null ? null : (JSON.parse(raw) as MigrationRecord);
  }

  async require(migrationId: string): Promise<MigrationRecord> {
    const record = await this.get(migrationId);
    if (!record) throw new MigrationNotFoundError(migrationId);
    return record;
  }

  /** Newest first. */
  async list(limit: number): Promise<MigrationRecord[]> {
    const ids = await this.redis.zrevrange(this.indexKey(), 0, limit - 1);
    if (ids.length === 0) return [];

    const raws = await this.redis.mget(ids.map((id) => this.recordKey(id)));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as MigrationRecord]));
  }

  /** Removes a record that was never handed to a queue (its enqueue failed). */
  discard(record: MigrationRecord): Promise<void> {
    const migrationId = record.migration_id;
    return this.inTurn(async () => {
      const results = await this.redis
        .multi()
        .del(this.podLockKey(record))
        .del(this.recordKey(migrationId))
        .zrem(this.indexKey(), migrationId)
        .hincrby(this.statsKey(), 'total', -1)
        .exec();
      throwOnTransactionError(results);
    });
  }

  /**
   * Applies a mutation atomically (optimistic locking with WATCH), stamps
   * updated_at, and books the KPI totals when the mutation finishes the migration.
   */
  update(migrationId: string, mutate: Mutation, now = new Date()): Promise<MigrationRecord> {
    return this.inTurn(() => this.updateWithRetry(migrationId, mutate, now));
  }

  async stats(): Promise<MigrationStats> {
    const [hash, durations] = await Promise.all([
      this.redis.hgetall(this.statsKey()),
      this.redis.lrange(this.durationsKey(), 0, -1),
    ]);
    const numbers = Object.fromEntries(Object.entries(hash).map(([k, v]) => [k, Number(v)]));

    return {
      total: numbers['total'] ?? 0,
      completed: numbers['completed'] ?? 0,
      failed: numbers['failed'] ?? 0,
      durations_ms: durations.map(Number),
      savings: numbers,
    };
  }

  private async updateWithRetry(
    migrationId: string,
    mutate: Mutation,
    now: Date,
  ): Promise<MigrationRecord> {
    const key = this.recordKey(migrationId);

    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      await this.redis.watch(key);
      const raw = await this.redis.get(key);
      if (raw === null) {
        await this.redis.unwatch();
        throw new MigrationNotFoundError(migrationId);
      }

      const before = JSON.parse(raw) as MigrationRecord;
      const after = structuredClone(before);
      try {
        mutate(after);
      } catch (error) {
        await this.redis.unwatch();
        throw error;
      }
      after.updated_at = now.toISOString();

      const transaction = this.redis.multi().set(key, JSON.stringify(after));
      if (!isFinished(before) && isFinished(after)) this.bookOutcome(transaction, after);
      const results = await transaction.exec();
      if (results !== null) {
        throwOnTransactionError(results);
        return after;
      }
    }
    throw new Error(
      `migration ${migrationId} kept changing; gave up after ${UPDATE_ATTEMPTS} tries`,
    );
  }

  private bookOutcome(transaction: ReturnType<Redis['multi']>, record: MigrationRecord): void {
    const stats = this.statsKey();
    transaction.del(this.podLockKey(record));
    transaction.hincrby(stats, record.status, 1);
    if (record.status !== 'completed') return;

    if (record.duration_ms !== null) {
      transaction.lpush(this.durationsKey(), record.duration_ms);
      transaction.ltrim(this.durationsKey(), 0, DURATION_SAMPLES - 1);
    }

    const savings = record.details.savings;
    if (!savings) return;
    transaction.hincrby(stats, 'requested_count', 1);
    transaction.hincrby(stats, 'requested_cpu_millicores', savings.requested.cpu_millicores);
    transaction.hincrby(stats, 'requested_memory_bytes', savings.requested.memory_bytes);
    if (savings.measured.status !== 'measured') return;
    transaction.hincrby(stats, 'measured_count', 1);
    transaction.hincrby(stats, 'measured_cpu_millicores', savings.measured.cpu_millicores);
    transaction.hincrby(stats, 'measured_memory_bytes', savings.measured.memory_bytes);
  }

  private inTurn<T>(transaction: () => Promise<T>): Promise<T> {
    const result = this.turn.then(transaction);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private podLockKey(record: MigrationRecord): string {
    return `${this.prefix}:pod-lock:${podOf(record)}`;
  }

  private recordKey(migrationId: string): string {
    return `${this.prefix}:migration:${migrationId}`;
  }

  private indexKey(): string {
    return `${this.prefix}:migrations`;
  }

  private statsKey(): string {
    return `${this.prefix}:stats`;
  }

  private durationsKey(): string {
    return `${this.prefix}:durations`;
  }
}

function podOf(record: MigrationRecord): string {
  return `${record.request.pod_namespace}/${record.request.pod_name}`;
}

function throwOnTransactionError(results: [Error | null, unknown][] | null): void {
  const failure = results?.find(([error]) => error !== null)?.[0];
  if (failure) throw failure;
}
