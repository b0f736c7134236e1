import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testRedis, type TestRedis } from '../../../../test/support/redis.ts';
import { policySchema } from './policy.ts';
import { POLICY_RUNS_KEPT, POLICY_STARTS_KEPT, PolicyStore } from './policy-store.ts';

let redis: TestRedis;
let store: PolicyStore;

beforeEach(() => {
  redis = testRedis();
  store = new PolicyStore(redis.redis, redis.prefix);
});

afterEach(async () => {
  await redis.cleanup();
});

const policy = (name: string) =>
  policySchema.parse({
    name,
    namespace: 'ml',
    selector: { match_labels: { app: 'trainer' } },
    metric: 'memory',
    threshold: '1Gi',
    target_nodes: ['worker-2'],
  });

describe('the policy store', () => {
  it('makes the stored configuration policies those of the file, keeping API ones', async () => {
    await store.syncConfiguration([policy('old'), policy('kept')]);
    await store.put(policy('from-api'), 'api');
    await store.recordRun('old', {
      evaluated_at: new Date().toISOString(),
      dry_run: false,
      pods: [],
    });

    await store.syncConfiguration([policy('kept'), policy('new')]);

    expect((await store.list()).map((p) => [p.name, p.source])).toEqual([
      ['from-api', 'api'],
      ['kept', 'configuration'],
      ['new', 'configuration'],
    ]);
    expect(await store.runs('old')).toEqual([]);
  });

  it('keeps "above since" times as set, replacing the previous ones', async () => {
    await store.put(policy('p'), 'api');
    const since = { since: new Date('2026-01-01T00:00:00Z'), seen: new Date() };
    await store.setAboveSince(
      'p',
      new Map([
        ['a', since],
        ['b', since],
      ]),
    );
    await store.setAboveSince('p', new Map([['b', since]]));

    expect(await store.aboveSince('p')).toEqual(new Map([['b', since]]));
    await store.setAboveSince('p', new Map());
    expect((await store.aboveSince('p')).size).toBe(0);

    // A time kept before the last-seen one was: seen then too, so a gap since counts.
    await redis.redis.hset(`${redis.prefix}:policy:p:above`, 'c', since.since.toISOString());
    expect(await store.aboveSince('p')).toEqual(
      new Map([['c', { since: since.since, seen: since.since }]]),
    );
  });

  it('caps the evaluations and the starts it keeps, newest first', async () => {
    const { policy: stored } = await store.put(policy('p'), 'api');
    for (let i = 0; i < POLICY_RUNS_KEPT + 5; i++) {
      await store.recordRun('p', { evaluated_at: String(i), dry_run: false, pods: [] });
    }
    for (let i = 0; i < POLICY_STARTS_KEPT + 5; i++) {
      const start = { migration_id: String(i), pod: 'a', started_at: '' };
      expect(await store.claimStart('p', stored.updated_at, start)).toBe(true);
    }

    const runs = await store.runs('p');
    expect(runs).toHaveLength(POLICY_RUNS_KEPT);
    expect(runs[0]?.evaluated_at).toBe(String(POLICY_RUNS_KEPT + 4));
    const starts = await store.starts('p');
    expect(starts).toHaveLength(POLICY_STARTS_KEPT);
    expect(starts[0]?.migration_id).toBe(String(POLICY_STARTS_KEPT + 4));
  });

  it('restarts the holds when what decides "above" changes, not when the cooldown does', async () => {
    const since = { since: new Date('2026-01-01T00:00:00Z'), seen: new Date() };
    const first = await store.put(policy('p'), 'api', since.since);
    await store.setAboveSince('p', new Map([['a', since]]), first.policy.updated_at);

    await store.put({ ...policy('p'), cooldown_seconds: 10 }, 'api');
    expect((await store.aboveSince('p')).size).toBe(1);

    for (const change of [
      { threshold: '2Gi' },
      { metric: 'cpu' as const, threshold: '500m' },
      { namespace: 'other' },
      { selector: { match_labels: { app: 'server' } } },
    ]) {
      const { policy: stored } = await store.put({ ...policy('p'), ...change }, 'api');
      await store.setAboveSince('p', new Map([['a', since]]), stored.updated_at);
      await store.put({ ...policy('p'), ...change, threshold: '3Gi' }, 'api');
      expect((await store.aboveSince('p')).size, JSON.stringify(change)).toBe(0);
    }
  });

  it("refuses an evaluation's writes once its policy is deleted or replaced", async () => {
    const evaluated = (await store.put(policy('p'), 'api', new Date(1000))).policy;
    const start = { migration_id: 'm-1', pod: 'a', started_at: '' };
    await store.put({ ...policy('p'), threshold: '2Gi' }, 'api', new Date(2000));

    expect(await store.claimStart('p', evaluated.updated_at, start)).toBe(false);
    expect(
      await store.setAboveSince(
        'p',
        new Map([['a', { since: new Date(), seen: new Date() }]]),
        evaluated.updated_at,
      ),
    ).toBe(false);
    expect(await store.starts('p')).toEqual([]);

    await store.delete('p');
    expect(await store.recordRun('p', { evaluated_at: '', dry_run: false, pods: [] })).toBe(false);
    expect(await store.claimStart('p', '', start)).toBe(false);
    const left = await redis.redis.keys(`${redis.prefix}:policy:p:*`);
    expect(left).toEqual([]);
  });

  it('remembers which policy started a migration for as long as asked', async () => {
    const move = { migration_id: 'm-1', policy: 'p-ping', started_at: new Date().toISOString() };
    await store.recordMove(move, 600);
    await store.recordMove({ ...move, migration_id: 'm-2' }, 0);

    expect(await store.move('m-1')).toEqual(move);
    expect(await store.move('m-2')).toBeNull();
    const ttl = await redis.redis.ttl(`${redis.prefix}:policy-move:m-1`);
    expect(ttl).toBeGreaterThan(590);
  });
});
