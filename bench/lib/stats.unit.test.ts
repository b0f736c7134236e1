import { describe, expect, it } from 'vitest';

import { percentile, ratio, summarize } from './stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, index) => 100 - index);

  it('returns a measured sample: the smallest with p % at or below it', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });

  it('takes the largest sample as p99 when there are fewer than 100', () => {
    expect(percentile([5, 9, 1, 7], 99)).toBe(9);
    expect(percentile([42], 99)).toBe(42);
  });

  it('refuses no samples and percentiles outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('leaves the samples in their order', () => {
    const samples = [3, 1, 2];
    percentile(samples, 50);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('gives n, p50, p99, mean, min and max', () => {
    expect(summarize([4, 2, 8, 6])).toEqual({ n: 4, p50: 4, p99: 8, mean: 5, min: 2, max: 8 });
  });

  it('refuses no samples', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('ratio', () => {
  it('divides subject by baseline', () => {
    expect(ratio(6, 2)).toBe(3);
    expect(ratio(1, 4)).toBe(0.25);
  });

  it('has no ratio to a zero baseline, except zero to zero', () => {
    expect(ratio(5, 0)).toBeUndefined();
    expect(ratio(0, 0)).toBe(1);
  });
});
