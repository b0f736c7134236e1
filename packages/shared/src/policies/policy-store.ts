import type { RedisClient } from '../redis.ts';
import { RedisScript } from '../redis-script.ts';
import type { Hold, PolicyMove, PolicyRun } from './decision.ts';
import type { Policy, PolicySource, StoredPolicy } from './policy.ts';
import {
  PolicyFromConfigurationError,
  PolicyNotFoundError,
  TooManyPoliciesError,
} from './policy-errors.ts';
import { lastEvaluationKey } from './policy-scheduler.ts';

/**
 * Policies the API may create, counting those of the file (itself capped at 100):
 * every evaluation lists and measures the pods of each one.
 */
export const MAX_POLICIES = 100;

/** Evaluations kept per policy, newest first. */
export const POLICY_RUNS_KEPT = 20;

/** Migrations started, kept per policy: its cooldown and in-flight count read them. */
export const POLICY_STARTS_KEPT = 100;

export interface PolicyStart {
  migration_id: string;
  pod: string;
  started_at: string;
}

/**
 * Writes of an evaluation, refused once its policy is gone or replaced: a policy
 * deleted or changed while it was evaluated gets no state from that evaluation.
 * KEYS[1] the definitions hash, KEYS[2] the key written; ARGV[1] the policy's
 * name, ARGV[2] the version (updated_at) evaluated, "" for any, ARGV[3] the
 * operation ("push" a list entry capped at ARGV[5], "hash" replace with pairs
 * from ARGV[4]). Replies 1 when written, 0 when refused.
 */
const GUARDED_WRITE_SCRIPT = new RedisScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if ARGV[2] ~= '' and cjson.decode(raw)['updated_at'] ~= ARGV[2] then return 0 end
if ARGV[3] == 'push' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
  return 1
end
redis.call('DEL', KEYS[2])
if #ARGV > 3 then redis.call('HSET', KEYS[2], unpack(ARGV, 4)) end
return 1
`);

/** The fields that decide which pods are above: a change restarts every hold. */
function holdFingerprint(policy: Policy): string {
  return JSON.stringify([policy.namespace, policy.selector, policy.metric, policy.threshold]);
}

export interface PutResult {
  policy: StoredPolicy;
  created: boolean;
}

/**
 * Load policies in Redis, under the installation's key prefix: the definitions in
 * one hash, and per policy the pods' "above since" times, its latest evaluations
 * and the migrations it started (each list capped).
 */
export class PolicyStore {
  private readonly redis: RedisClient;
  private readonly prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  /**
   * Creates or replaces a policy. The API may not replace one the policy file owns.
   * Its runs and starts stay (the cooldown still counts); the pods' holds restart
   * when what decides "above" changed (namespace, selector, metric or threshold).
   */
  async put(policy: Policy, source: PolicySource, now = new Date()): Promise<PutResult> {
    const existing = await this.get(policy.name);
    if (existing?.source === 'configuration' && source === 'api') {
      throw new PolicyFromConfigurationError(policy.name);
    }
    // Two creations at once may both pass: the bound may be passed by a few, no more.
    if (existing === null && source === 'api' && (await this.count()) >= MAX_POLICIES) {
      throw new TooManyPoliciesError(MAX_POLICIES);
    }

    const stored: StoredPolicy = {
      ...policy,
      source,
      created_at: existing?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
    };
    const transaction = this.redis
      .multi()
      .hset(this.definitionsKey(), policy.name, JSON.stringify(stored));
    if (existing !== null && holdFingerprint(existing) !== holdFingerprint(policy)) {
      transaction.del(this.aboveKey(policy.name));
    }
    await transaction.exec();
    return { policy: stored, created: existing === null };
  }

  async get(name: string): Promise<StoredPolicy | null> {
    const raw = await this.redis.hget(this.definitionsKey(), name);
    return raw === null ? null : (JSON.parse(raw) as StoredPolicy);
  }

  async require(name: string): Promise<StoredPolicy> {
    const policy = await this.get(name);
    if (policy === null) throw new PolicyNotFoundError(name);
    return policy;
  }

  async count(): Promise<number> {
    return this.redis.hlen(this.definitionsKey());
  }

  /** When the evaluator last finished a run over every policy (the scheduler writes it). */
  async lastEvaluationAt(): Promise<string | null> {
    return this.redis.get(lastEvaluationKey(this.prefix));
  }

  /** Every policy, by name. */
  async list(): Promise<StoredPolicy[]> {
    const all = await this.redis.hgetall(this.definitionsKey());
    return Object.values(all)
      .map((raw) => JSON.parse(raw) as StoredPolicy)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes a policy made through the API, with its state; returns what it was. */
  async delete(name: string): Promise<StoredPolicy> {
    const policy = await this.require(name);
    if (policy.source === 'configuration') throw new PolicyFromConfigurationError(name);

    await this.remove(name);
    return policy;
  }

  /**
   * Makes the stored configuration policies those of the file: each is written, and
   * a configuration policy the file no longer names is removed. Policies made
   * through the API under the same name are taken over by the file.
   */
  async syncConfiguration(policies: Policy[], now = new Date()): Promise<void> {
    const names = new Set(policies.map((policy) => policy.name));
    for (const stored of await this.list()) {
      if (stored.source === 'configuration' && !names.has(stored.name)) {
        await this.remove(stored.name);
      }
    }
    for (const policy of policies) await this.put(policy, 'configuration', now);
  }

  /** Pods whose usage is above the threshold: since when, and when last seen above. */
  async aboveSince(name: string): Promise<Map<string, Hold>> {
    const all = await this.redis.hgetall(this.aboveKey(name));
    return new Map(Object.entries(all).map(([pod, value]) => [pod, parseHold(value)]));
  }

  /**
   * Replaces the "above since" times: pods no longer above, or gone, drop out.
   * Refused (false) when the policy is gone or is no longer the version evaluated.
   */
  async setAboveSince(name: string, above: Map<string, Hold>, version = ''): Promise<boolean> {
    const fields = [...above].flatMap(([pod, hold]) => [pod, formatHold(hold)]);
    return this.guardedWrite(name, this.aboveKey(name), version, ['hash', ...fields]);
  }

  /** Keeps an evaluation; refused (false) when the policy is gone. */
  async recordRun(name: string, run: PolicyRun): Promise<boolean> {
    const entry = JSON.stringify(run);
    return this.guardedWrite(name, this.runsKey(name), '', ['push', entry, POLICY_RUNS_KEPT]);
  }

  /** The latest evaluations, newest first. */
  async runs(name: string, limit = POLICY_RUNS_KEPT): Promise<PolicyRun[]> {
    const raws = await this.redis.lrange(this.runsKey(name), 0, limit - 1);
    return raws.map((raw) => JSON.parse(raw) as PolicyRun);
  }

  /**
   * Records a start before the migration is submitted, at once with checking that
   * the policy still exists in the version evaluated: false when it does not, and
   * then nothing may start. A DELETE answered before this point stops the start.
   */
  async claimStart(name: string, version: string, start: PolicyStart): Promise<boolean> {
    const entry = JSON.stringify(start);
    const operation = ['push', entry, POLICY_STARTS_KEPT];
    return this.guardedWrite(name, this.startsKey(name), version, operation);
  }

  /**
   * Remembers, by migration id, which policy started a migration, for as long as
   * the pod it makes may not be moved again by any policy.
   */
  async recordMove(move: PolicyMove, keepSeconds: number): Promise<void> {
    if (keepSeconds <= 0) return;
    await this.redis.set(this.moveKey(move.migration_id), JSON.stringify(move), 'EX', keepSeconds);
  }

  /** The policy move that made a pod, by the pod's migration-id label; null when none. */
  async move(migrationId: string): Promise<PolicyMove | null> {
    const raw = await this.redis.get(this.moveKey(migrationId));
    return raw === null ? null : (JSON.parse(raw) as PolicyMove);
  }

  /** Withdraws a claimed start whose migration could not be submitted. */
  async withdrawStart(name: string, start: PolicyStart): Promise<void> {
    await this.redis.lrem(this.startsKey(name), 1, JSON.stringify(start));
  }

  /** The migrations the policy started, newest first. */
  async starts(name: string): Promise<PolicyStart[]> {
    const raws = await this.redis.lrange(this.startsKey(name), 0, POLICY_STARTS_KEPT - 1);
    return raws.map((raw) => JSON.parse(raw) as PolicyStart);
  }

  private async remove(name: string): Promise<void> {
    await this.redis
      .multi()
      .hdel(this.definitionsKey(), name)
      .del(this.aboveKey(name), this.runsKey(name), this.startsKey(name))
      .exec();
  }

  private async guardedWrite(
    name: string,
    key: string,
    version: string,
    operation: (string | number)[],
  ): Promise<boolean> {
    const keys = [this.definitionsKey(), key];
    const written = await GUARDED_WRITE_SCRIPT.run(this.redis, keys, [name, version, ...operation]);
    return written === 1;
  }

  private moveKey(migrationId: string): string {
    return `${this.prefix}:policy-move:${migrationId}`;
  }

  private definitionsKey(): string {
    return `${this.prefix}:policies`;
  }

  private aboveKey(name: string): string {
    return `${this.prefix}:policy:${name}:above`;
  }

  private runsKey(name: string): string {
    return `${this.prefix}:policy:${name}:runs`;
  }

  private startsKey(name: string): string {
    return `${this.prefix}:policy:${name}:starts`;
  }
}

/** "since|seen"; a value written before the last-seen time was kept is "since" alone. */
function formatHold(hold: Hold): string {
  return `${hold.since.toISOString()}|${hold.seen.toISOString()}`;
}

function parseHold(value: string): Hold {
  const [since = '', seen = since] = value.split('|');
  return { since: new Date(since), seen: new Date(seen) };
}
