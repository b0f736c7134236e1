import { afterAll, describe, expect, it } from 'vitest';

import { closeRedis, createRedis } from '@aso/shared';

import { TEST_REDIS_URL } from '../../test/support/redis.ts';
import { CostMeter } from './request-cost.ts';

const redis = createRedis(TEST_REDIS_URL, 'producer', 'test:request-cost');

afterAll(async () => {
  await closeRedis(redis);
});

/** Keeps this thread on the CPU for `ms`. */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose: the meter must see this thread's time
  }
}

describe('CostMeter', () => {
  it("charges each request its share of this thread's and Redis' CPU over the window", async () => {
    const meter = new CostMeter(redis);

    await meter.measure('busy', async () => {
      burn(300);
      for (let i = 0; i < 200; i++) await redis.ping();
      return 100;
    });
    const cost = meter.cost('busy');

    // 300 ms of this thread over 100 requests is 3,000 µs each; ticks are 10 ms.
    expect(cost?.threadMicros).toBeGreaterThanOrEqual(2_500);
    expect(cost?.threadMicros).toBeLessThan(10_000);
    expect(cost?.redisMicros).toBeGreaterThan(0);
    expect(cost?.redisMicros).toBeLessThan(cost?.threadMicros ?? 0);
    expect(cost?.windows).toBe(1);
  });

  it('has no figure for a side that served no request', async () => {
    const meter = new CostMeter(redis);

    await meter.measure('idle', () => Promise.resolve(0));

    expect(meter.cost('idle')).toBeUndefined();
    expect(meter.cost('never')).toBeUndefined();
  });
});
