/**
 * Runs the product (A) and its baseline (B) in alternation, A B A B ..., so that a
 * slow moment of the machine (another process, a GC, a disk flush) falls on both
 * sides alike. The first rounds warm caches, JIT and connections and are dropped.
 */

export interface InterleaveOptions {
  /** Rounds of A and B run first and dropped. */
  warmup: number;
  /** Rounds kept; each yields one sample of A and one of B. */
  rounds: number;
}

export interface Interleaved {
  a: number[];
  b: number[];
  /** Rounds run and dropped before the kept ones. */
  warmupRounds: number;
}

/**
 * Each side is a function that runs once and returns its sample (a duration, a
 * count); the round number is passed so a side can name what it creates.
 */
export async function interleave(
  a: (round: number) => Promise<number>,
  b: (round: number) => Promise<number>,
  options: InterleaveOptions,
): Promise<Interleaved> {
  const { samples, warmupRounds } = await interleaveSides({ a, b }, options);
  return { a: samples.a, b: samples.b, warmupRounds };
}

/**
 * The same alternation for sides that yield many samples a round (every request's
 * latency during a window of load): the kept rounds' samples are concatenated.
 */
export async function interleaveMany(
  a: (round: number) => Promise<number[]>,
  b: (round: number) => Promise<number[]>,
  options: InterleaveOptions,
): Promise<Interleaved> {
  const kept: Interleaved = { a: [], b: [], warmupRounds: options.warmup };
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    const samplesA = await a(round);
    const samplesB = await b(round);
    if (round < options.warmup) continue;

    kept.a.push(...samplesA);
    kept.b.push(...samplesB);
  }
  return kept;
}

/** Milliseconds elapsed while fn runs, from the monotonic clock. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * The alternation over any number of named sides (A and B, or context figures beside
 * a comparison): each round runs every side once, in the order given.
 */
export async function interleaveSides<Name extends string>(
  sides: Record<Name, (round: number) => Promise<number>>,
  options: InterleaveOptions,
): Promise<{ samples: Record<Name, number[]>; warmupRounds: number }> {
  const names = Object.keys(sides) as Name[];
  const samples = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<
    Name,
    number[]
  >;

  for (let round = 0; round < options.warmup + options.rounds; round++) {
    for (const name of names) {
      const sample = await sides[name](round);
      if (round >= options.warmup) samples[name].push(sample);
    }
  }
  return { samples, warmupRounds: options.warmup };
}
