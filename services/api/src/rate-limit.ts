import type { MiddlewareHandler } from 'hono';

import { RedisScript, type Logger, type RedisClient } from '@aso/shared';

import { RateLimitedError } from './access-errors.ts';
import { isPublicPath } from './auth.ts';
import type { ApiEnv } from './deps.ts';

const WINDOW_MS = 60_000;

/** How long a request waits for the counter before it is let through uncounted. */
const COUNTER_TIMEOUT_MS = 500;

/**
 * A fixed window per token that opens with the token's first request: one INCR,
 * and the key's TTL is the time left. The window lives in Redis, not in the
 * process, so the limit holds across API replicas, and no replica's clock is used.
 */
const COUNT_SCRIPT = new RedisScript(`
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`);

export interface RateLimiterOptions {
  redis: RedisClient;
  keyPrefix: string;
  /** Requests a token may make in a minute. */
  perMinute: number;
  logger: Logger;
}

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

/**
 * Counts requests per token in Redis. When Redis cannot be reached the request is
 * let through uncounted (fail open): every route that reads or writes migrations
 * needs Redis and answers 503 by itself then, while Prometheus' /metrics and the
 * KPIs stay reachable for the operator, and only holders of a valid token, already
 * checked without Redis, get this far.
 */
export class RateLimiter {
  readonly perMinute: number;
  private readonly options: RateLimiterOptions;
  private counterDown = false;

  constructor(options: RateLimiterOptions) {
    this.options = options;
    this.perMinute = options.perMinute;
  }

  async take(tokenId: string): Promise<RateDecision> {
    const key = `${this.options.keyPrefix}:rate-limit:${tokenId}`;

    let reply: [number, number];
    try {
      reply = await withTimeout(
        COUNT_SCRIPT.run(this.options.redis, [key], [WINDOW_MS]) as Promise<[number, number]>,
        COUNTER_TIMEOUT_MS,
      );
    } catch (error) {
      this.reportCounterDown(error);
      return { allowed: true, retryAfterSeconds: 0 };
    }

    this.counterDown = false;
    const [count, ttlMs] = reply;
    return {
      allowed: count <= this.perMinute,
      retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
    };
  }

  /** One warning per outage: every request would otherwise log the same line. */
  private reportCounterDown(error: unknown): void {
    if (this.counterDown) return;
    this.counterDown = true;
    this.options.logger.warn(
      { err: error },
      'rate limit counter (Redis) unreachable; letting requests through uncounted',
    );
  }
}

export function rateLimit(limiter: RateLimiter): MiddlewareHandler<ApiEnv> {
  return async function limitRate(c, next) {
    if (isPublicPath(c)) {
      await next();
      return;
    }

    const decision = await limiter.take(c.get('token').id);
    if (!decision.allowed)
      throw new RateLimitedError(limiter.perMinute, decision.retryAfterSeconds);
    await next();
  };
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
