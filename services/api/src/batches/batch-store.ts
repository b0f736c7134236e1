import { MAX_TIMEOUT_SECONDS, type RedisClient } from '@aso/shared';

/** A pod by namespace and name. */
export interface PodName {
  namespace: string;
  name: string;
}

/** Why a pod was not migrated: a pre-flight code, or the batch's own reason. */
export interface Refusal {
  code: string;
  detail: string;
}

export interface BatchMember {
  pod: PodName;
  /** The node the pod ran on when the batch started; null when it had none. */
  source_node: string | null;
  /** The node chosen or named for it; null when none was. */
  target_node: string | null;
  /** Its migration; null when it was refused. */
  migration_id: string | null;
  refused: Refusal | null;
}

/** A pod a drain left on its node, and why. */
export interface LeftPod {
  pod: PodName;
  code: string;
  reason: string;
}

export interface DrainDetails {
  node: string;
  /** Whether the node was cordoned before the drain began; the drain then never uncordons it. */
  was_cordoned: boolean;
  cordoned_at: string | null;
  /** When a cancel uncordoned the node this drain cordoned. */
  uncordoned_at: string | null;
  left: LeftPod[];
  /**
   * How many of `left` were movable pods the drain could not start (refused by the
   * pre-flight, no target fits): a drain with any is never `completed`. Absent on
   * drains stored before it was counted.
   */
  not_moved?: number;
}

export interface BatchRecord {
  batch_id: string;
  kind: 'batch' | 'drain';
  created_at: string;
  updated_at: string;
  cancel_requested_at: string | null;
  max_in_flight: number;
  /** A node name, or "any". */
  target_node: string;
  /** How the members were named: a list of pods, or a selector in one namespace. */
  selection: { namespace: string; selector: string } | { pods: PodName[] } | { node: string };
  options: { preserve_pv: boolean; force: boolean; timeout: number };
  members: BatchMember[];
  drain: DrainDetails | null;
  /** What the request asked that the batch cannot do as asked (e.g. its max_in_flight). */
  warnings?: string[];
}

export interface BatchStoreOptions {
  /** How long a finished migration stays readable, in seconds: a batch outlives its members by as long. */
  retentionSeconds: number;
}

/** KEYS[1] the lock; ARGV: the holder expected, the new holder, the lifetime in seconds. */
const SWAP_IF_HELD_BY = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
`;

/** KEYS[1] the lock; ARGV[1] the holder it may be released by. */
const DELETE_IF_HELD_BY = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Slack past the members' own deadline: the metrics stage runs after a stabilisation delay. */
const SLACK_SECONDS = 3600;

/**
 * Batch and drain records in Redis under the store prefix: one JSON document per
 * batch and an index by creation time for each kind. A batch expires the members' retention time
 * after its members could last have finished (their deadline plus slack); every
 * read of a batch whose members still run pushes that back, so nothing vanishes
 * while members run. A drain also holds its node's lock, naming the drain.
 *
 * Writes are whole-document SETs without WATCH: a batch is written by its POST,
 * and later only by a cancel, which sets the same fields to the same values.
 */
export class BatchStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly retentionSeconds: number;

  constructor(redis: RedisClient, prefix: string, options: BatchStoreOptions) {
    this.redis = redis;
    this.prefix = prefix;
    this.retentionSeconds = options.retentionSeconds;
  }

  async save(batch: BatchRecord): Promise<void> {
    await this.redis
      .multi()
      .set(this.key(batch.batch_id), JSON.stringify(batch), 'EX', this.lifetime(batch))
      .zadd(this.indexKey(batch.kind), Date.parse(batch.created_at), batch.batch_id)
      .exec();
  }

  /** Withdraws a batch that never started a member; nothing can name it. */
  async remove(batch: BatchRecord): Promise<void> {
    await this.redis
      .multi()
      .del(this.key(batch.batch_id))
      .zrem(this.indexKey(batch.kind), batch.batch_id)
      .exec();
  }

  async get(batchId: string): Promise<BatchRecord | null> {
    const raw = await this.redis.get(this.key(batchId));
    return raw === null ? null : (JSON.parse(raw) as BatchRecord);
  }

  /** Pushes the expiry back while members may still run. */
  async keepAlive(batch: BatchRecord): Promise<void> {
    await this.redis.expire(this.key(batch.batch_id), this.lifetime(batch));
  }

  /**
   * The newest `limit` batches or drains, newest first, from the kind's own index so
   * that a page is full whenever that many exist. Ids of expired records are
   * dropped from the index and the page is topped up past them.
   */
  async list(kind: BatchRecord['kind'], limit: number): Promise<BatchRecord[]> {
    const index = this.indexKey(kind);
    const found: BatchRecord[] = [];
    let start = 0;

    while (found.length < limit) {
      const ids = await this.redis.zrevrange(index, start, start + limit - found.length - 1);
      if (ids.length === 0) break;

      const raws = await this.redis.mget(ids.map((id) => this.key(id)));
      const expired = ids.filter((_, at) => raws[at] === null);
      if (expired.length > 0) await this.redis.zrem(index, ...expired);
      found.push(...raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as BatchRecord])));
      start += ids.length - expired.length;
    }
    return found;
  }

  /**
   * Takes a node's drain lock for `drainId` unless another drain holds it. Returns
   * the holder when one does: a drain still being set up (see `isSettingUp`), or
   * one whose record tells whether it has ended. A drain being set up holds the lock
   * briefly, so that an API that dies in the middle blocks the node for minutes only.
   */
  async lockNode(node: string, drainId: string): Promise<string | null> {
    const key = this.nodeLockKey(node);
    for (;;) {
      const taken = await this.redis.set(key, settingUp(drainId), 'EX', SETUP_SECONDS, 'NX');
      if (taken === 'OK') return null;
      const holder = await this.redis.get(key);
      // Expired between the two commands: try again.
      if (holder !== null) return holder;
    }
  }

  /**
   * Hands a node's lock from an ended drain to a new one, unless another took it
   * meanwhile: one compare-and-set in Redis, so that of several drains racing for
   * the same ended holder exactly one wins.
   */
  async takeOverNode(node: string, from: string, to: string): Promise<boolean> {
    const key = this.nodeLockKey(node);
    const swapped = await this.redis.eval(
      SWAP_IF_HELD_BY,
      1,
      key,
      from,
      settingUp(to),
      SETUP_SECONDS,
    );
    return swapped === 1;
  }

  /**
   * Ends a drain's setup: its node lock, held briefly until now, is kept as long as
   * the drain's record, since its members may wait long.
   */
  async holdNode(batch: BatchRecord): Promise<void> {
    if (batch.drain === null) return;
    const key = this.nodeLockKey(batch.drain.node);
    const lifetime = Math.max(this.lifetime(batch), this.maxLifetime());
    const id = batch.batch_id;
    await this.redis.eval(SWAP_IF_HELD_BY, 1, key, settingUp(id), id, lifetime);
  }

  async unlockNode(node: string, drainId: string): Promise<void> {
    for (const held of [drainId, settingUp(drainId)]) {
      await this.redis.eval(DELETE_IF_HELD_BY, 1, this.nodeLockKey(node), held);
    }
  }

  /**
   * Members' timeouts count from their admission, and in the worst case (caps of
   * one) they are admitted one after another: the batch lasts as long as that.
   */
  private lifetime(batch: BatchRecord): number {
    const waves = Math.max(1, batch.members.length);
    return batch.options.timeout * waves + SLACK_SECONDS + this.retentionSeconds;
  }

  private maxLifetime(): number {
    return MAX_TIMEOUT_SECONDS + SLACK_SECONDS + this.retentionSeconds;
  }

  private key(batchId: string): string {
    return `${this.prefix}:batch:${batchId}`;
  }

  /** One index per kind: a page of drains is not thinned out by batches, nor the reverse. */
  private indexKey(kind: BatchRecord['kind']): string {
    return `${this.prefix}:${kind === 'drain' ? 'drains' : 'batches'}`;
  }

  private nodeLockKey(node: string): string {
    return `${this.prefix}:drain-lock:${node}`;
  }
}

/** How long a drain being set up may hold its node's lock. */
const SETUP_SECONDS = 600;
const SETUP_MARK = 'setup:';

function settingUp(drainId: string): string {
  return `${SETUP_MARK}${drainId}`;
}

/**
 * A lock held by a drain still being set up: its record may not exist yet, or show
 * no members, so it must not be taken for an ended drain.
 */
export function isSettingUp(holder: string): boolean {
  return holder.startsWith(SETUP_MARK);
}

export function drainIdOf(holder: string): string {
  return isSettingUp(holder) ? holder.slice(SETUP_MARK.length) : holder;
}
