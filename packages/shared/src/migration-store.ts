import type { Redis } from 'ioredis';

import { createHash } from 'node:crypto';

import {
  IdempotencyKeyReusedError,
  MigrationFinishedError,
  MigrationInProgressError,
  MigrationNotFoundError,
  MigrationSwitchStartedError,
} from './errors.ts';
import {
  FINISHED_STATUSES,
  isFinished,
  switchStarted,
  type FinishedStatus,
  type MigrationRecord,
} from './migration.ts';
import {
  eventAbout,
  eventError,
  MigrationEventLog,
  migrationEventsKey,
  type EventDraft,
} from './migration-events-log.ts';
import type { RedisClient } from './redis.ts';
import { RedisScript } from './redis-script.ts';

/** How many finished durations the KPI percentiles rest on. */
const DURATION_SAMPLES = 1000;

/** How often an update retries when another writer changed the record under it. */
const UPDATE_ATTEMPTS = 20;

/**
 * A migration's creation, atomic. KEYS: 1 the pod's lock, 2 the record of the lock's
 * holder as read before, 3 the new record, 4 the index, 5 the totals, 6 the new
 * record's event log, 7 (with an Idempotency-Key) the key's entry. ARGV: 1 the holder
 * read before ("" for none), 2 the new id, 3 its record, 4 its creation time (ms),
 * 5 the key's entry, 6 the key's lifetime (s), 7 "1" to answer a remembered key,
 * 8 the first event's JSON ("" for none), 9 the log's length cap, 10 the log's
 * lifetime (ms; the new record has no expiry), 11.. the finished statuses.
 * Replies {"retry"} (the lock changed since it was read), {"seen", entry},
 * {"held", holder} or {"created"}.
 */
const CREATE_SCRIPT = new RedisScript(`
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then return {'retry', current} end
if KEYS[7] and ARGV[7] == '1' then
  local seen = redis.call('GET', KEYS[7])
  if seen then return {'seen', seen} end
end
if ARGV[1] ~= '' then
  local raw = redis.call('GET', KEYS[2])
  if raw then
    local status = cjson.decode(raw)['status']
    local finished = false
    for i = 11, #ARGV do
      if status == ARGV[i] then finished = true end
    end
    if not finished then return {'held', ARGV[1]} end
  end
end
-- The event first: should it fail, no record is left that no job will work on.
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[9], '*', 'event', ARGV[8])
  redis.call('PEXPIRE', KEYS[6], ARGV[10])
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'NX')
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
redis.call('HINCRBY', KEYS[5], 'total', 1)
if KEYS[7] then redis.call('SET', KEYS[7], ARGV[5], 'EX', ARGV[6]) end
return {'created'}
`);

type CreateOutcome =
  | { kind: 'created' }
  | { kind: 'retry'; holder: string }
  | { kind: 'held'; holder: string }
  | { kind: 'seen'; entry: string };

export interface MigrationStats {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  durations_ms: number[];
  savings: Record<string, number>;
}

export interface MigrationStoreOptions {
  /** How long a finished record stays readable and listable, in seconds. */
  retentionSeconds?: number;
  /** How long an Idempotency-Key keeps answering with its migration, in seconds. */
  idempotencyTtlSeconds?: number;
}

/** A client's Idempotency-Key, scoped to its caller, and a digest of the request it came with. */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
}

/** Limits on migrations that work on the cluster at the same time. */
export interface InFlightCaps {
  total: number;
  perSourceNode: number;
}

export type Admission = { admitted: true } | { admitted: false; reason: string };

export const DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600;
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** The store's options from a service's configuration. */
export function migrationStoreOptions(config: {
  ASO_RECORD_RETENTION_SECONDS: number;
  ASO_IDEMPOTENCY_TTL_SECONDS: number;
}): MigrationStoreOptions {
  return {
    retentionSeconds: config.ASO_RECORD_RETENTION_SECONDS,
    idempotencyTtlSeconds: config.ASO_IDEMPOTENCY_TTL_SECONDS,
  };
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
  private readonly retentionSeconds: number;
  private readonly idempotencyTtlSeconds: number;
  /** Each migration's progress events, kept beside its record (see migration-events-log.ts). */
  readonly events: MigrationEventLog;

  // WATCH belongs to a connection and any EXEC clears it, so every transaction on
  // this store's connection takes its turn. The connection must not be shared.
  private turn: Promise<unknown> = Promise.resolve();

  constructor(redis: RedisClient, prefix: string, options: MigrationStoreOptions = {}) {
    this.redis = redis;
    this.prefix = prefix;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    this.idempotencyTtlSeconds = options.idempotencyTtlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS;
    this.events = new MigrationEventLog(redis, prefix, this.retentionSeconds);
  }

  /**
   * Stores a new migration and takes its pod's lock: one migration per pod at a
   * time. Refuses with MigrationInProgressError while an unfinished one holds it.
   * With an idempotency claim, a key seen before returns its migration instead.
   *
   * One script does the checks and the writes, so creates need no WATCH and do not
   * wait for each other's turn on the connection (the gateway's throughput rests on
   * it). The script names every key it touches (Redis Cluster), the lock holder's
   * record among them: the first try assumes the pod is free, the usual case, and
   * costs one round trip; when the lock is held the script answers with its holder
   * and the next try names that holder's record.
   *
   * `firstEvent`, when given, opens the migration's event log in the same script,
   * only if the migration is created: one round trip less than emitting it after.
   */
  async create(
    record: MigrationRecord,
    idempotency?: IdempotencyClaim,
    firstEvent?: EventDraft,
  ): Promise<Created> {
    const event = firstEvent ? JSON.stringify(eventAbout(record, firstEvent)) : '';
    let checkSeen = true;
    let holder = '';
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const outcome = await this.tryCreate(record, idempotency, { checkSeen, event, holder });
      if (outcome.kind === 'created') return { record, replayed: false };
      if (outcome.kind === 'retry') holder = outcome.holder;
      if (outcome.kind === 'held') {
        throw new MigrationInProgressError(podOf(record), outcome.holder);
      }
      if (outcome.kind === 'seen' && idempotency) {
        const seen = JSON.parse(outcome.entry) as IdempotencyEntry;
        if (seen.fingerprint !== idempotency.fingerprint) {
          throw new IdempotencyKeyReusedError(seen.migration_id);
        }
        const earlier = await this.get(seen.migration_id);
        if (earlier) return { record: earlier, replayed: true };
        // Its migration expired while the key was remembered: the key goes to this one.
        checkSeen = false;
      }
    }
    throw new Error(`the lock of pod ${podOf(record)} kept changing; gave up`);
  }

  /**
   * The migration an Idempotency-Key was used for, while the key is remembered.
   * Throws IdempotencyKeyReusedError when the key came with another request.
   */
  async findIdempotent(claim: IdempotencyClaim): Promise<MigrationRecord | null> {
    const raw = await this.redis.get(this.idempotencyKey(claim.key));
    if (raw === null) return null;

    const seen = JSON.parse(raw) as IdempotencyEntry;
    if (seen.fingerprint !== claim.fingerprint) {
      throw new IdempotencyKeyReusedError(seen.migration_id);
    }
    return this.get(seen.migration_id);
  }

  /** The unfinished migration that holds a pod's lock, if any. */
  async activeMigration(namespace: string, podName: string): Promise<MigrationRecord | null> {
    const holder = await this.redis.get(`${this.prefix}:pod-lock:${namespace}/${podName}`);
    const held = holder === null ? null : await this.get(holder);
    return held && !isFinished(held) ? held : null;
  }

  private async tryCreate(
    record: MigrationRecord,
    idempotency: IdempotencyClaim | undefined,
    { checkSeen, event, holder }: { checkSeen: boolean; event: string; holder: string },
  ): Promise<CreateOutcome> {
    const lock = this.podLockKey(record);
    const entry: IdempotencyEntry | null = idempotency
      ? { migration_id: record.migration_id, fingerprint: idempotency.fingerprint }
      : null;
    const keys = [
      lock,
      // Without a holder the script reads no record: any key of the slot will do.
      this.recordKey(holder === '' ? record.migration_id : holder),
      this.recordKey(record.migration_id),
      this.indexKey(),
      this.statsKey(),
      migrationEventsKey(this.prefix, record.migration_id),
      ...(idempotency ? [this.idempotencyKey(idempotency.key)] : []),
    ];

    const reply = (await CREATE_SCRIPT.run(this.redis, keys, [
      holder,
      record.migration_id,
      JSON.stringify(record),
      Date.parse(record.created_at),
      entry === null ? '' : JSON.stringify(entry),
      this.idempotencyTtlSeconds,
      checkSeen ? '1' : '0',
      event,
      this.events.maxLength,
      this.events.retentionMs,
      ...FINISHED_STATUSES,
    ])) as [string, string?];
    const [kind, detail = ''] = reply;
    if (kind === 'held') return { kind, holder: detail };
    if (kind === 'seen') return { kind, entry: detail };
    return kind === 'created' ? { kind } : { kind: 'retry', holder: detail };
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

  /**
   * Newest first. Finished records expire after the retention time; their ids are
   * dropped from the index when a listing meets them.
   */
  async list(limit: number): Promise<MigrationRecord[]> {
    for (let pass = 0; ; pass++) {
      const ids = await this.redis.zrevrange(this.indexKey(), 0, limit - 1);
      if (ids.length === 0) return [];

      const raws = await this.redis.mget(ids.map((id) => this.recordKey(id)));
      const expired = ids.filter((_, index) => raws[index] === null);
      if (expired.length === 0 || pass === 2) {
        return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as MigrationRecord]));
      }
      await this.redis.zrem(this.indexKey(), ...expired);
    }
  }

  /** Removes a record that was never handed to a queue (its enqueue failed). */
  discard(record: MigrationRecord, idempotency?: IdempotencyClaim): Promise<void> {
    const migrationId = record.migration_id;
    return this.inTurn(async () => {
      const transaction = this.redis
        .multi()
        .del(this.podLockKey(record))
        .del(this.recordKey(migrationId))
        .del(migrationEventsKey(this.prefix, migrationId))
        .zrem(this.indexKey(), migrationId)
        .hincrby(this.statsKey(), 'total', -1);
      if (idempotency) transaction.del(this.idempotencyKey(idempotency.key));
      const results = await transaction.exec();
      // Only a WATCH left on the connection could abort it; none is, by construction.
      if (results === null) throw new Error(`withdrawing migration ${migrationId} was aborted`);
      throwOnTransactionError(results);
    });
  }

  /**
   * An operator's cancel. Before any stage began work the migration ends here as
   * cancelled; while a stage works it is flagged, and that stage rolls back and
   * ends it. Refused once the migration ended or its switch to the new pod began.
   */
  async requestCancel(migrationId: string, now = new Date()): Promise<MigrationRecord> {
    const asked = { first: false };
    const record = await this.update(
      migrationId,
      (record) => {
        if (isFinished(record)) throw new MigrationFinishedError(migrationId, record.status);
        if (switchStarted(record)) throw new MigrationSwitchStartedError(migrationId);

        asked.first = (record.cancel_requested_at ?? null) === null;
        record.cancel_requested_at ??= now.toISOString();
        if (record.status === 'running') {
          record.message = 'cancel requested; the running stage rolls back';
          return;
        }
        finishAsCancelled(record, null, true, now);
      },
      now,
    );
    if (asked.first) await this.tellCancel(record, now);
    return record;
  }

  /** The cancel in the migration's event log, and its end when it ended at once. */
  private async tellCancel(record: MigrationRecord, now: Date): Promise<void> {
    const ended = record.status === 'cancelled';
    await this.events.emit(
      record,
      {
        type: 'cancel-requested',
        message: ended ? 'cancel requested before any stage began' : record.message,
      },
      undefined,
      now,
    );
    if (!ended) return;

    const error = eventError(record);
    await this.events.emit(
      record,
      { type: 'cancelled', message: record.message, ...(error && { error }) },
      undefined,
      now,
    );
  }

  /**
   * Takes a place among the migrations in flight, within the caps: cluster-wide and
   * per source node. A migration that holds its place keeps it across retries; the
   * place is given back in the transaction that finishes the migration.
   */
  admit(record: MigrationRecord, caps: InFlightCaps): Promise<Admission> {
    return this.inTurn(async () => {
      for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
        const admission = await this.tryAdmit(record, caps);
        if (admission) return admission;
      }
      throw new Error(`the in-flight set kept changing; gave up admitting ${record.migration_id}`);
    });
  }

  /** Migrations created in the window (epoch ms) that no stage has picked up yet. */
  async pendingBetween(fromMs: number, toMs: number): Promise<MigrationRecord[]> {
    const ids = await this.redis.zrangebyscore(this.indexKey(), fromMs, toMs);
    if (ids.length === 0) return [];

    const raws = await this.redis.mget(ids.map((id) => this.recordKey(id)));
    return raws
      .flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as MigrationRecord]))
      .filter((record) => record.status === 'pending');
  }

  /** How many migrations hold a place in flight, cluster-wide and from one node. */
  async inFlight(sourceNode: string): Promise<{ total: number; fromNode: number }> {
    const [total, fromNode] = await Promise.all([
      this.redis.zcard(this.inFlightKey()),
      this.redis.zcard(this.inFlightKey(sourceNode)),
    ]);
    return { total, fromNode };
  }

  /** How many members of a batch hold a place in flight. */
  batchInFlight(batchId: string): Promise<number> {
    return this.redis.zcard(this.batchInFlightKey(batchId));
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
      cancelled: numbers['cancelled'] ?? 0,
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
        await this.endWatch(key);
        throw new MigrationNotFoundError(migrationId);
      }

      const before = JSON.parse(raw) as MigrationRecord;
      const after = structuredClone(before);
      try {
        mutate(after);
      } catch (error) {
        await this.endWatch(key);
        throw error;
      }
      after.updated_at = now.toISOString();

      // KEEPTTL: a finished record keeps its retention time through later writes.
      const transaction = this.redis.multi().set(key, JSON.stringify(after), 'KEEPTTL');
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

  private async tryAdmit(record: MigrationRecord, caps: InFlightCaps): Promise<Admission | null> {
    const id = record.migration_id;
    const node = record.request.source_node;
    const batch = record.batch ?? null;
    const all = this.inFlightKey();
    const fromNode = this.inFlightKey(node);
    const ofBatch = batch === null ? null : this.batchInFlightKey(batch.batch_id);
    await this.redis.watch(all, fromNode, ...(ofBatch === null ? [] : [ofBatch]));

    const [held, total, onNode, inBatch] = await Promise.all([
      this.redis.zscore(all, id),
      this.redis.zcard(all),
      this.redis.zcard(fromNode),
      ofBatch === null ? 0 : this.redis.zcard(ofBatch),
    ]);
    if (held !== null) {
      await this.endWatch(all);
      return { admitted: true };
    }

    const full =
      total >= caps.total
        ? `${total} of ${caps.total} migrations in flight cluster-wide`
        : onNode >= caps.perSourceNode
          ? `${onNode} of ${caps.perSourceNode} migrations in flight from node ${node}`
          : batch !== null && inBatch >= batch.max_in_flight
            ? `${inBatch} of ${batch.max_in_flight} migrations in flight in batch ${batch.batch_id}`
            : null;
    if (full !== null) {
      await this.endWatch(all);
      // A place held by a migration that ended without giving it back is freed here.
      const freed =
        (await this.releaseStale(all)) +
        (await this.releaseStale(fromNode)) +
        (ofBatch === null ? 0 : await this.releaseStale(ofBatch));
      return freed > 0 ? null : { admitted: false, reason: full };
    }

    const now = Date.now();
    const transaction = this.redis.multi().zadd(all, now, id).zadd(fromNode, now, id);
    if (ofBatch !== null) transaction.zadd(ofBatch, now, id);
    const results = await transaction.exec();
    if (results === null) return null;
    throwOnTransactionError(results);
    return { admitted: true };
  }

  /** Drops places whose migration has ended or whose record is gone; returns how many. */
  private async releaseStale(key: string): Promise<number> {
    const ids = await this.redis.zrange(key, 0, -1);
    if (ids.length === 0) return 0;

    const raws = await this.redis.mget(ids.map((id) => this.recordKey(id)));
    const stale = ids.filter((_, index) => {
      const raw = raws[index];
      return raw === null || raw === undefined || isFinished(JSON.parse(raw) as MigrationRecord);
    });
    if (stale.length > 0) await this.redis.zrem(key, ...stale);
    return stale.length;
  }

  private bookOutcome(transaction: ReturnType<Redis['multi']>, record: MigrationRecord): void {
    const stats = this.statsKey();
    const id = record.migration_id;
    transaction.del(this.podLockKey(record));
    transaction.zrem(this.inFlightKey(), id);
    transaction.zrem(this.inFlightKey(record.request.source_node), id);
    if (record.batch) transaction.zrem(this.batchInFlightKey(record.batch.batch_id), id);
    transaction.expire(this.recordKey(id), this.retentionSeconds);
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

  /**
   * Ends a WATCH without a transaction. On Redis Cluster a bare UNWATCH names no key
   * and may reach another master than the watched slot's; an empty transaction on a
   * key of that slot always reaches the right one, and EXEC clears every WATCH.
   */
  private async endWatch(key: string): Promise<void> {
    await this.redis.multi().exists(key).exec();
  }

  private inTurn<T>(transaction: () => Promise<T>): Promise<T> {
    const result = this.turn.then(transaction);
    this.turn = result.catch(() => undefined);
    return result;
  }

  private podLockKey(record: MigrationRecord): string {
    return `${this.prefix}:pod-lock:${podOf(record)}`;
  }

  private inFlightKey(sourceNode?: string): string {
    const all = `${this.prefix}:in-flight`;
    return sourceNode === undefined ? all : `${all}:node:${sourceNode}`;
  }

  /** The members of one batch that hold a place in flight; empty once the batch is done. */
  private batchInFlightKey(batchId: string): string {
    return `${this.prefix}:in-flight:batch:${batchId}`;
  }

  private idempotencyKey(key: string): string {
    // Hashed: a client's key may hold any characters and be long.
    return `${this.prefix}:idempotency:${createHash('sha256').update(key).digest('hex')}`;
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

export interface Created {
  /** The stored migration: the new one, or the one an Idempotency-Key was used for. */
  record: MigrationRecord;
  replayed: boolean;
}

interface IdempotencyEntry {
  migration_id: string;
  fingerprint: string;
}

/**
 * Ends a migration as cancelled. `stage` is where it stood (null: before any stage
 * began), `rolledBack` whether what it had done was undone.
 */
export function finishAsCancelled(
  record: MigrationRecord,
  stage: MigrationRecord['stage'],
  rolledBack: boolean,
  now: Date,
): void {
  const status: FinishedStatus = 'cancelled';
  record.status = status;
  record.message =
    stage === null
      ? 'cancelled on request before any stage began'
      : `cancelled on request in the ${stage} stage${rolledBack ? '; rolled back' : '; rollback failed'}`;
  record.error = {
    code: 'migration-cancelled',
    message: 'cancelled on request',
    stage,
    rolled_back: rolledBack,
  };
  record.finished_at = now.toISOString();
  record.duration_ms = now.getTime() - Date.parse(record.created_at);
}

function podOf(record: MigrationRecord): string {
  return `${record.request.pod_namespace}/${record.request.pod_name}`;
}

function throwOnTransactionError(results: [Error | null, unknown][] | null): void {
  const failure = results?.find(([error]) => error !== null)?.[0];
  if (failure) throw failure;
}
