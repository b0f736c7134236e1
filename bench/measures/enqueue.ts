/**
 * Item 3: the cost of accepting a migration. POST /api/v1/migrations on the gateway
 * built in-process (real store, queues and middleware on the shared Redis under a
 * prefix of its own; the planner is the real plan builder over a fixture pod, no
 * cluster reads) against a no-op route behind the same middleware; its saturation
 * rate against a bare BullMQ queue.add loop on the same Redis. Requests come from a
 * load generator in a worker thread, over loopback HTTP with keep-alive.
 */
import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';

import { closeRedis, createRedis } from '@aso/shared';

import { startBareHttpServer } from '../lib/bare-http.ts';
import { NOOP_PATH, startBenchApi, type BenchApi } from '../lib/bench-api.ts';
import { interleave, interleaveMany, interleaveSides } from '../lib/interleave.ts';
import {
  startLoadGenerator,
  type LoadGenerator,
  type LoadResult,
  type TargetSpec,
} from '../lib/load.ts';
import { benchPrefix, removePrefixes } from '../lib/redis-keys.ts';
import { CostMeter } from '../lib/request-cost.ts';
import { percentile } from '../lib/stats.ts';
import type { BenchContext, Section, Series } from '../lib/types.ts';
import { section } from './enqueue-report.ts';

const CONCURRENCY_STEPS = [1, 2, 4, 8, 16, 32, 64, 128, 256];
/** Throughput must grow by this factor over the best so far to count as growing. */
const GROWTH = 1.05;

interface Settings {
  stepMs: number;
  rateRounds: number;
  latencyRounds: number;
}

function settings(quick: boolean): Settings {
  return quick
    ? { stepMs: 1_000, rateRounds: 2, latencyRounds: 2 }
    : { stepMs: 3_000, rateRounds: 5, latencyRounds: 6 };
}

function targets(
  api: BenchApi,
  bareUrl: string,
): { post: TargetSpec; noop: TargetSpec; bare: TargetSpec } {
  const run = randomUUID().slice(0, 8);
  // A distinct pod per request: one migration per pod may be in flight at a time.
  const bodyTemplate = JSON.stringify({
    pod_name: `bench-${run}-{n}`,
    pod_namespace: 'default',
    target_node: 'worker-2',
  });
  return {
    post: { url: `${api.url}/api/v1/migrations`, token: api.token, bodyTemplate },
    noop: { url: `${api.url}${NOOP_PATH}`, token: api.token, bodyTemplate },
    bare: { url: bareUrl, token: api.token, bodyTemplate },
  };
}

function requireAnswers(result: LoadResult, what: string): LoadResult {
  // A few refusals would make the side look faster than it is: none is allowed.
  if (result.errors > 0) {
    throw new Error(
      `${what}: ${result.errors} requests failed (first: ${result.firstError ?? '?'})`,
    );
  }
  return result;
}

export interface Saturation {
  rate: number;
  concurrency: number;
  series: Series;
}

/** Closed loop with more and more clients until the throughput stops growing. */
async function findSaturation(
  load: LoadGenerator,
  post: TargetSpec,
  stepMs: number,
): Promise<Saturation> {
  const rows: (string | number)[][] = [];
  let best = { rate: 0, concurrency: 1 };
  let flatSteps = 0;

  for (const concurrency of CONCURRENCY_STEPS) {
    const result = requireAnswers(
      await load.run({ kind: 'closed', target: post, concurrency, durationMs: stepMs }),
      `POST at concurrency ${concurrency}`,
    );
    const rate = (result.completed / result.elapsedMs) * 1000;
    rows.push([
      concurrency,
      rate,
      percentile(result.latenciesMs, 50),
      percentile(result.latenciesMs, 99),
    ]);

    if (rate > best.rate * GROWTH) {
      flatSteps = 0;
    } else {
      flatSteps++;
    }
    if (rate > best.rate) best = { rate, concurrency };
    if (flatSteps >= 2) break;
  }
  return {
    ...best,
    series: {
      id: 'enqueue.saturation',
      title: 'POST /api/v1/migrations, closed loop: throughput by concurrency',
      columns: ['clients', 'requests/s', 'p50 ms', 'p99 ms'],
      rows,
      notes: [
        `Clients doubled until the throughput grew less than ${Math.round((GROWTH - 1) * 100)} % over the best ` +
          `for two steps; saturation = the best rate seen. ${stepMs / 1000} s a step.`,
      ],
    },
  };
}

/** A bare BullMQ queue.add loop with `concurrency` callers, for `durationMs`. */
async function bareAdds(
  queue: Queue,
  concurrency: number,
  durationMs: number,
): Promise<{ completed: number; elapsedMs: number }> {
  let added = 0;
  const start = performance.now();
  const end = start + durationMs;
  const caller = async () => {
    while (performance.now() < end) {
      await queue.add('job', { migrationId: randomUUID() });
      added++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return { completed: added, elapsedMs: performance.now() - start };
}

const WARMUP_ROUNDS = 1;

/**
 * A closed-loop window's rate in requests per second; once past the warm-up, the
 * window's CPU cost per request is metered under `side`.
 */
function meteredRate(
  meter: CostMeter,
  side: Side,
  window: () => Promise<{ completed: number; elapsedMs: number }>,
): (round: number) => Promise<number> {
  return async (round) => {
    let result = { completed: 0, elapsedMs: 1 };
    const run = async () => {
      result = await window();
      return result.completed;
    };
    if (round < WARMUP_ROUNDS) await run();
    else await meter.measure(side, run);
    return (result.completed / result.elapsedMs) * 1000;
  };
}

type Side = 'post' | 'noop' | 'bare-http' | 'bare-add';

export default async function enqueue(context: BenchContext): Promise<Section> {
  const { stepMs, rateRounds, latencyRounds } = settings(context.quick);
  const apiPrefix = benchPrefix('enqueue');
  const barePrefix = benchPrefix('enqueue-bare');
  const api = await startBenchApi(context.redisUrl, apiPrefix);
  const bareHttp = await startBareHttpServer();
  const load = startLoadGenerator();
  const bareRedis = createRedis(context.redisUrl, 'producer', 'bench:bare-add');
  const bareQueue = new Queue('bare-add', { connection: bareRedis, prefix: barePrefix });
  const { post, noop, bare } = targets(api, bareHttp.url);
  const meter = new CostMeter(bareRedis);
  // Every accepted POST leaves its record, lock, event stream and queued job behind (no
  // worker takes them here): a phase would otherwise run against the millions of keys
  // and gigabytes of the phases before it. Each starts from an empty prefix instead.
  const startPhase = (message: string) => {
    context.log(message);
    return removePrefixes(context.redisUrl, [apiPrefix, barePrefix]);
  };

  try {
    context.log('enqueue: looking for the saturation rate of POST');
    const saturation = await findSaturation(load, post, stepMs);
    const { concurrency } = saturation;
    context.log(`enqueue: saturation ${Math.round(saturation.rate)}/s at ${concurrency} clients`);

    const closedWindow = (target: TargetSpec, what: string) => async () =>
      requireAnswers(
        await load.run({ kind: 'closed', target, concurrency, durationMs: stepMs }),
        what,
      );
    await startPhase(`enqueue: POST against the bare loop at ${concurrency} clients`);
    const rates = await interleave(
      meteredRate(meter, 'post', closedWindow(post, 'POST')),
      meteredRate(meter, 'bare-add', () => bareAdds(bareQueue, concurrency, stepMs)),
      { warmup: WARMUP_ROUNDS, rounds: rateRounds },
    );

    // Context only, no goal: how fast the no-op route and a bare node:http server answer
    // at that concurrency, so the report tells how much of the gap to the bare loop is
    // HTTP and middleware, and whether any route served by one process could close it.
    await startPhase(
      `enqueue: no-op route's and bare server's saturation at ${concurrency} clients`,
    );
    const httpRates = await interleaveSides(
      {
        post: meteredRate(meter, 'post', closedWindow(post, 'POST')),
        noop: meteredRate(meter, 'noop', closedWindow(noop, 'no-op')),
        bare: meteredRate(meter, 'bare-http', closedWindow(bare, 'bare node:http')),
      },
      { warmup: WARMUP_ROUNDS, rounds: rateRounds },
    );

    // One lucky window of the search would overstate the saturation on a busy machine:
    // half of the median of the repeated saturation windows is the rate held for latency.
    const ratePerSecond = percentile(rates.a, 50) / 2;
    await startPhase(`enqueue: latency at ${Math.round(ratePerSecond)}/s, open loop`);
    const openLoop = (target: TargetSpec, what: string) => async () =>
      requireAnswers(
        await load.run({
          kind: 'open',
          target,
          ratePerSecond,
          durationMs: stepMs,
          connections: concurrency,
        }),
        what,
      ).latenciesMs;
    const latencies = await interleaveMany(openLoop(post, 'POST'), openLoop(noop, 'no-op'), {
      warmup: WARMUP_ROUNDS,
      rounds: latencyRounds,
    });

    const costs = {
      post: meter.cost('post'),
      noop: meter.cost('noop'),
      bareHttp: meter.cost('bare-http'),
      bareAdd: meter.cost('bare-add'),
    };
    return section({ saturation, rates, httpRates, latencies, ratePerSecond, stepMs, costs });
  } finally {
    await load.close();
    await api.close();
    await bareHttp.close();
    await bareQueue.close();
    await closeRedis(bareRedis);
    await removePrefixes(context.redisUrl, [apiPrefix, barePrefix]);
  }
}
