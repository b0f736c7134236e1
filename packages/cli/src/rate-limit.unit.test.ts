import { describe, expect, it } from 'vitest';

import { CliError, EXIT } from './cli-error.ts';
import {
  DEFAULT_RETRY_AFTER_MS,
  once,
  outwaitRateLimit,
  RateLimitedError,
  retryAfterMs,
} from './rate-limit.ts';

const PROBLEM = { status: 429, code: 'rate-limited', detail: 'too many requests' };

describe('waiting out a rate limit', () => {
  it('reads Retry-After as seconds or as a date, within bounds', () => {
    const now = Date.parse('2026-12-04T22:00:00Z');

    expect(retryAfterMs('12', now)).toBe(12_000);
    expect(retryAfterMs(' 3 ', now)).toBe(3_000);
    expect(retryAfterMs('Fri, 04 Dec 2026 22:00:30 GMT', now)).toBe(30_000);
    // Nothing to wait, or nothing readable: never a busy loop.
    expect(retryAfterMs('0', now)).toBe(1_000);
    expect(retryAfterMs(null, now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(retryAfterMs('soon', now)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(retryAfterMs('86400', now)).toBe(120_000);
  });

  it('asks again after the wait, telling each wait, and keeps other refusals', async () => {
    let calls = 0;
    const waits: number[] = [];
    const answer = await outwaitRateLimit(
      () => {
        calls += 1;
        if (calls < 3) return Promise.reject(new RateLimitedError('limited', PROBLEM, 1_000));
        return Promise.resolve('answer');
      },
      new AbortController().signal,
      (waitMs) => waits.push(waitMs),
    );

    expect(answer).toBe('answer');
    expect(waits).toEqual([1_000, 1_000]);

    const refused = new CliError(EXIT.refused, 'no such batch');
    await expect(
      outwaitRateLimit(() => Promise.reject(refused), new AbortController().signal),
    ).rejects.toBe(refused);
  });

  it('stops waiting on Ctrl-C', async () => {
    const interrupt = new AbortController();
    const waiting = outwaitRateLimit(
      () => Promise.reject(new RateLimitedError('limited', PROBLEM, 60_000)),
      interrupt.signal,
    );
    interrupt.abort(new Error('stopped following'));

    await expect(waiting).rejects.toThrow('stopped following');
  });

  it('tells the operator once', () => {
    const told: number[] = [];
    const tell = once((waitMs) => told.push(waitMs));
    tell(2_000);
    tell(3_000);

    expect(told).toEqual([2_000]);
  });
});
