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
    const since = new Date('2026-01-01T00:00:00Z');
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
  });

  it('caps the evaluations and the starts it keeps, newest first', async () => {
    for (let i = 0; i < POLICY_RUNS_KEPT + 5; i++) {
      await store.recordRun('p', { evaluated_at: String(i), dry_run: false, pods: [] });
    }
    for (let i = 0; i < POLICY_STARTS_KEPT + 5; i++) {
      await store.recordStart('p', { migration_id: String(i), pod: 'a', started_at: '' });
    }

    const runs = await store.runs('p');
    expect(runs).toHaveLength(POLICY_RUNS_KEPT);
    expect(runs[0]?.evaluated_at).toBe(String(POLICY_RUNS_KEPT + 4));
    const starts = await store.starts('p');
    expect(starts).toHaveLength(POLICY_STARTS_KEPT);
    expect(starts[0]?.migration_id).toBe(String(POLICY_STARTS_KEPT + 4));
  });
});
