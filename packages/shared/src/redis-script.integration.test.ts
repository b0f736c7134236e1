import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { RedisScript } from './redis-script.ts';

let redis: TestRedis;

beforeEach(() => {
  redis = testRedis();
});

afterEach(async () => {
  await redis.cleanup();
});

describe('redis script', () => {
  it('runs a script the server does not know yet, then by its digest', async () => {
    // A text no one ran before: the server cannot have it cached.
    const script = new RedisScript(
      `-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`,
    );
    const key = `${redis.prefix}:counter`;

    expect(await script.run(redis.redis, [key], [2])).toBe(2);
    expect(await script.run(redis.redis, [key], [3])).toBe(5);
  });

  it('passes on the errors of the script itself', async () => {
    const script = new RedisScript(`-- ${randomUUID()}\nreturn redis.call('NO-SUCH-COMMAND')`);

    await expect(script.run(redis.redis, [`${redis.prefix}:x`], [])).rejects.toThrow(
      /unknown command|Unknown Redis command/i,
    );
  });
});
