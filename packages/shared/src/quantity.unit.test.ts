import { describe, expect, it } from 'vitest';

import { cpuToMillicores, formatBytes, formatMillicores, memoryToBytes } from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['1', 1000],
    ['1.5', 1500],
    ['0.25', 250],
    ['250000u', 250],
    ['1500000000n', 1500],
    ['2k', 2_000_000],
  ])('reads CPU %s as %i millicores', (quantity, millicores) => {
    expect(cpuToMillicores(quantity)).toBe(millicores);
  });

  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['1G', 1e9],
    ['128974848', 128974848],
    ['129e6', 129e6],
    ['64Ki', 65536],
  ])('reads memory %s as %i bytes', (quantity, bytes) => {
    expect(memoryToBytes(quantity)).toBe(bytes);
  });

  it('rejects what is not a quantity', () => {
    expect(() => cpuToMillicores('lots')).toThrow(/invalid resource quantity "lots"/);
    expect(() => memoryToBytes('12XB')).toThrow(/invalid resource quantity/);
  });

  it('formats with the largest exact unit', () => {
    expect(formatMillicores(1600)).toBe('1600m');
    expect(formatMillicores(2000)).toBe('2');
    expect(formatMillicores(0)).toBe('0m');
    expect(formatBytes(2688 * 2 ** 20)).toBe('2688Mi');
    expect(formatBytes(2 * 2 ** 30)).toBe('2Gi');
    expect(formatBytes(1000)).toBe('1000');
  });
});
