import { describe, expect, it } from 'vitest';
import {
  cpuToNanocores,
  formatCpu,
  formatMemory,
  memoryToBytes,
  parseQuantity,
} from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['900m', 0.9],
    ['2', 2],
    ['0.5', 0.5],
    ['1536Mi', 1536 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['250000000n', 0.25],
  ])('parses %s', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(['', 'lots', '-1', '1.5.2', '10 Mi', '1Zi'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it('prints CPU in millicores when exact and nanocores otherwise', () => {
    expect(formatCpu(cpuToNanocores(0.9))).toBe('900m');
    expect(formatCpu(1_234_567)).toBe('1234567n');
    expect(formatCpu(0)).toBe('0m');
  });

  it('prints memory with the largest exact binary suffix', () => {
    expect(formatMemory(memoryToBytes(1536 * 2 ** 20))).toBe('1536Mi');
    expect(formatMemory(2 * 2 ** 30)).toBe('2Gi');
    expect(formatMemory(1000)).toBe('1000');
  });
});
