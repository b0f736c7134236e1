import { describe, expect, it } from 'vitest';

import { interleave, interleaveMany, interleaveSides, timeMs } from './interleave.ts';

describe('interleave', () => {
  it('runs A and B alternately and drops the warm-up rounds', async () => {
    const calls: string[] = [];
    const side = (name: string, value: number) => (round: number) => {
      calls.push(`${name}${round}`);
      return Promise.resolve(value * 100 + round);
    };

    const result = await interleave(side('A', 1), side('B', 2), { warmup: 2, rounds: 3 });

    expect(calls).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2', 'A3', 'B3', 'A4', 'B4']);
    expect(result.a).toEqual([102, 103, 104]);
    expect(result.b).toEqual([202, 203, 204]);
    expect(result.warmupRounds).toBe(2);
  });

  it('keeps every round when there is no warm-up', async () => {
    const result = await interleave(
      () => Promise.resolve(1),
      () => Promise.resolve(2),
      { warmup: 0, rounds: 2 },
    );
    expect(result).toEqual({ a: [1, 1], b: [2, 2], warmupRounds: 0 });
  });

  it('stops at the first failing side', async () => {
    let bCalls = 0;
    const failing = interleave(
      () => Promise.reject(new Error('subject broke')),
      () => {
        bCalls++;
        return Promise.resolve(1);
      },
      { warmup: 1, rounds: 1 },
    );
    await expect(failing).rejects.toThrow('subject broke');
    expect(bCalls).toBe(0);
  });
});

describe('interleaveMany', () => {
  it('alternates the sides and concatenates the kept rounds of samples', async () => {
    const calls: string[] = [];
    const side = (name: string) => (round: number) => {
      calls.push(`${name}${round}`);
      return Promise.resolve([round, round + 0.5]);
    };

    const result = await interleaveMany(side('A'), side('B'), { warmup: 1, rounds: 2 });

    expect(calls).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(result.a).toEqual([1, 1.5, 2, 2.5]);
    expect(result.b).toEqual([1, 1.5, 2, 2.5]);
    expect(result.warmupRounds).toBe(1);
  });
});

describe('timeMs', () => {
  it('measures at least the time the function waits', async () => {
    const elapsed = await timeMs(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(elapsed).toBeGreaterThanOrEqual(19);
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('interleaveSides', () => {
  it('runs every named side once a round, in order, and drops the warm-up rounds', async () => {
    const calls: string[] = [];
    const side = (name: string) => (round: number) => {
      calls.push(`${name}${round}`);
      return Promise.resolve(round);
    };

    const result = await interleaveSides(
      { post: side('P'), noop: side('N'), bare: side('B') },
      { warmup: 1, rounds: 2 },
    );

    expect(calls).toEqual(['P0', 'N0', 'B0', 'P1', 'N1', 'B1', 'P2', 'N2', 'B2']);
    expect(result).toEqual({
      samples: { post: [1, 2], noop: [1, 2], bare: [1, 2] },
      warmupRounds: 1,
    });
  });
});
