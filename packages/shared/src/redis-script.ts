import { createHash } from 'node:crypto';

import type { RedisClient } from './redis.ts';

/**
 * A Lua script run by its SHA1 digest (EVALSHA), so that each call sends the digest
 * instead of the script's text and Redis does not hash that text again per call.
 * The server may not know the script yet (first call, restart, failover, SCRIPT
 * FLUSH): on NOSCRIPT the call is repeated once with EVAL, which also loads it.
 */
export class RedisScript {
  private readonly source: string;
  private readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
