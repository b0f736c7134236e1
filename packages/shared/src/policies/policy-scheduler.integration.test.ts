import { setTimeout as sleep } from 'node:timers/promises';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testRedis, type TestRedis } from '../../../../test/support/redis.ts';
import { createLogger } from '../logger.ts';
import { closeRedis, createRedis, type RedisClient } from '../redis.ts';
import {
  lastEvaluationKey,
  policyLeaseMs,
  startPolicyScheduler,
  type PolicyScheduler,
} from './policy-scheduler.ts';

// Two replicas of the metrics worker on one Redis prefix: the evaluation runs once
// per interval between them, never twice at once.

let redis: TestRedis;
const connections: RedisClient[] = [];
const schedulers: PolicyScheduler[] = [];

beforeEach(() => {
  redis = testRedis();
});

afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
  await Promise.all(connections.splice(0).map(closeRedis));
  await redis.cleanup();
});

interface Replica {
  runs: number[];
  skipped: number;
}

async function replica(
  evaluate: (replica: Replica) => Promise<void>,
  intervalSeconds = 1,
): Promise<Replica> {
  const state: Replica = { runs: [], skipped: 0 };
  const connection = createRedis(redis.url, 'producer', 'test:policies');
  const workerConnection = createRedis(redis.url, 'worker', 'test:policies:worker');
  connections.push(connection, workerConnection);

  schedulers.push(
    await startPolicyScheduler({
      connection,
      workerConnection,
      prefix: redis.prefix,
      intervalSeconds,
      logger: createLogger('test', 'silent'),
      evaluate: () => evaluate(state),
      onSkipped: () => {
        state.skipped += 1;
      },
    }),
  );
  return state;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the policy scheduler', () => {
  it('runs the evaluation once per interval across replicas', async () => {
    const record = (state: Replica) => {
      state.runs.push(Date.now());
      return Promise.resolve();
    };
    const a = await replica(record);
    const b = await replica(record);

    await until(() => a.runs.length + b.runs.length >= 4, 'four evaluations');

    const times = [...a.runs, ...b.runs].sort((x, y) => x - y);
    const gaps = times.slice(1).map((time, index) => time - (times[index] ?? 0));
    // One job per interval, whichever replica takes it: never two close together.
    expect(Math.min(...gaps)).toBeGreaterThan(700);
  });

  it('skips an evaluation while another replica still runs one', async () => {
    let running = 0;
    let mostAtOnce = 0;
    const slow = async (state: Replica) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      state.runs.push(Date.now());
      // Longer than the interval: the next job comes due while this one runs.
      await sleep(2_500);
      running -= 1;
    };
    const a = await replica(slow);
    const b = await replica(slow);

    await until(() => a.skipped + b.skipped >= 1 && a.runs.length + b.runs.length >= 2, 'a skip');

    expect(mostAtOnce).toBe(1);
  });

  it('holds the lease a few intervals at a time, renewed while a run goes on', async () => {
    const leaseKey = `${redis.prefix}:policy-evaluator-lease`;
    const ttls: number[] = [];
    let finished = false;
    await replica(async (state) => {
      if (state.runs.push(Date.now()) > 1) return;
      // Longer than the lease: only renewals keep it.
      const end = Date.now() + policyLeaseMs(1) + 1_500;
      while (Date.now() < end) {
        ttls.push(await redis.redis.pttl(leaseKey));
        await sleep(200);
      }
      finished = true;
    });

    await until(() => finished, 'a run longer than the lease');

    // A replica that died mid-run would block the others for at most this long.
    expect(Math.max(...ttls)).toBeLessThanOrEqual(policyLeaseMs(1));
    expect(Math.min(...ttls)).toBeGreaterThan(0);
    // The end of the run is kept for GET /api/v1/policies/:name, just after it.
    let last: string | null = null;
    while (last === null) {
      last = await redis.redis.get(lastEvaluationKey(redis.prefix));
      await sleep(50);
    }
    expect(Date.now() - Date.parse(last)).toBeLessThan(5_000);
  });
});
