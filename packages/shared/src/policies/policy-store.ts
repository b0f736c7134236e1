import type { RedisClient } from '../redis.ts';
import type { PolicyRun } from './decision.ts';
import type { Policy, PolicySource, StoredPolicy } from './policy.ts';
import { PolicyFromConfigurationError, PolicyNotFoundError } from './policy-errors.ts';

/** Evaluations kept per policy, newest first. */
export const POLICY_RUNS_KEPT = 20;

/** Migrations started, kept per policy: its cooldown and in-flight count read them. */
export const POLICY_STARTS_KEPT = 100;

export interface PolicyStart {
  migration_id: string;
  pod: string;
  started_at: string;
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
   * Its evaluation state stays: a replaced threshold applies from the next evaluation.
   */
  async put(policy: Policy, source: PolicySource, now = new Date()): Promise<PutResult> {
    const existing = await this.get(policy.name);
    if (existing?.source === 'configuration' && source === 'api') {
      throw new PolicyFromConfigurationError(policy.name);
    }

    const stored: StoredPolicy = {
      ...policy,
      source,
      created_at: existing?.created_at ?? now.toISOString(),
      updated_at: now.toISOString(),
    };
    await this.redis.hset(this.definitionsKey(), policy.name, JSON.stringify(stored));
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

  /** Pods whose usage is above the threshold, and since when. */
  async aboveSince(name: string): Promise<Map<string, Date>> {
    const all = await this.redis.hgetall(this.aboveKey(name));
    return new Map(Object.entries(all).map(([pod, since]) => [pod, new Date(since)]));
  }

  /** Replaces the "above since" times: pods no longer above, or gone, drop out. */
  async setAboveSince(name: string, above: Map<string, Date>): Promise<void> {
    const key = this.aboveKey(name);
    const transaction = this.redis.multi().del(key);
    if (above.size > 0) {
      const fields = [...above].flatMap(([pod, since]) => [pod, since.toISOString()]);
      transaction.hset(key, ...fields);
    }
    await transaction.exec();
  }

  async recordRun(name: string, run: PolicyRun): Promise<void> {
    const key = this.runsKey(name);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(run))
      .ltrim(key, 0, POLICY_RUNS_KEPT - 1)
      .exec();
  }

  /** The latest evaluations, newest first. */
  async runs(name: string, limit = POLICY_RUNS_KEPT): Promise<PolicyRun[]> {
    const raws = await this.redis.lrange(this.runsKey(name), 0, limit - 1);
    return raws.map((raw) => JSON.parse(raw) as PolicyRun);
  }

  async recordStart(name: string, start: PolicyStart): Promise<void> {
    const key = this.startsKey(name);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(start))
      .ltrim(key, 0, POLICY_STARTS_KEPT - 1)
      .exec();
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
