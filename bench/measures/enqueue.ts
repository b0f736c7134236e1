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
import { percentile } from '../lib/stats.ts';
import type { BenchContext, Comparison, Section, Series } from '../lib/types.ts';

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

interface Saturation {
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

/** A bare BullMQ queue.add loop with `concurrency` callers, for `durationMs`: adds per second. */
async function bareAddRate(queue: Queue, concurrency: number, durationMs: number): Promise<number> {
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
  return (added / (performance.now() - start)) * 1000;
}

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

  try {
    context.log('enqueue: looking for the saturation rate of POST');
    const saturation = await findSaturation(load, post, stepMs);
    const { concurrency } = saturation;
    context.log(`enqueue: saturation ${Math.round(saturation.rate)}/s at ${concurrency} clients`);

    const rates = await interleave(
      async () => {
        const result = await load.run({
          kind: 'closed',
          target: post,
          concurrency,
          durationMs: stepMs,
        });
        return (requireAnswers(result, 'POST').completed / result.elapsedMs) * 1000;
      },
      () => bareAddRate(bareQueue, concurrency, stepMs),
      { warmup: 1, rounds: rateRounds },
    );

    // Context only, no goal: how fast the no-op route and a bare node:http server answer
    // at that concurrency, so the report tells how much of the gap to the bare loop is
    // HTTP and middleware, and whether any route served by one process could close it.
    context.log(`enqueue: no-op route's and bare server's saturation at ${concurrency} clients`);
    const closedRate = (target: TargetSpec, what: string) => async () => {
      const result = await load.run({ kind: 'closed', target, concurrency, durationMs: stepMs });
      return (requireAnswers(result, what).completed / result.elapsedMs) * 1000;
    };
    const httpRates = await interleaveSides(
      {
        post: closedRate(post, 'POST'),
        noop: closedRate(noop, 'no-op'),
        bare: closedRate(bare, 'bare node:http'),
      },
      { warmup: 1, rounds: rateRounds },
    );

    // One lucky window of the search would overstate the saturation on a busy machine:
    // half of the median of the repeated saturation windows is the rate held for latency.
    const ratePerSecond = percentile(rates.a, 50) / 2;
    context.log(`enqueue: latency at ${Math.round(ratePerSecond)}/s, open loop`);
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
      warmup: 1,
      rounds: latencyRounds,
    });

    return section({ saturation, rates, httpRates, latencies, ratePerSecond, stepMs });
  } finally {
    await load.close();
    await api.close();
    await bareHttp.close();
    await bareQueue.close();
    await closeRedis(bareRedis);
    await removePrefixes(context.redisUrl, [apiPrefix, barePrefix]);
  }
}

interface Figures {
  saturation: Saturation;
  rates: Awaited<ReturnType<typeof interleave>>;
  /** POST, the no-op route and a bare node:http server, closed loop at the saturation concurrency. */
  httpRates: Awaited<ReturnType<typeof interleaveSides<'post' | 'noop' | 'bare'>>>;
  latencies: Awaited<ReturnType<typeof interleaveMany>>;
  ratePerSecond: number;
  stepMs: number;
}

function section({
  saturation,
  rates,
  httpRates,
  latencies,
  ratePerSecond,
  stepMs,
}: Figures): Section {
  const seconds = stepMs / 1000;
  const latency: Comparison = {
    id: 'enqueue.latency',
    title: 'Enqueue: POST latency at half saturation vs no-op route',
    unit: 'ms',
    better: 'lower',
    subject: {
      label: `POST /api/v1/migrations at ${Math.round(ratePerSecond)}/s`,
      samples: latencies.a,
    },
    baseline: {
      label: `no-op route, same middleware, at ${Math.round(ratePerSecond)}/s`,
      samples: latencies.b,
    },
    goal: { ratio: 3, on: 'p99', text: "p99 at most 3 times the no-op route's" },
    warmupRounds: latencies.warmupRounds,
    notes: [
      `Open loop at half the saturation rate (the median of the saturation windows below), windows of ` +
        `${seconds} s alternating POST and no-op, over ${saturation.concurrency} keep-alive connections (the ` +
        "saturation concurrency); each latency counts from the request's scheduled send time, so a stall " +
        'delays the requests behind it too, their wait for a free connection included.',
      'Both routes pass the request id, request log (pino, written to /dev/null), bearer token and ' +
        'per-token rate limit (a Redis round trip; limit set too high to refuse) middleware.',
      'POST plans with the real plan builder over a fixture pod (no cluster read), stores the record, ' +
        'takes the pod lock and queues the capture job, on the shared Redis.',
    ],
  };
  const rate: Comparison = {
    id: 'enqueue.rate',
    title: 'Enqueue: POST saturation rate vs bare queue.add loop',
    unit: 'requests/s',
    better: 'higher',
    subject: {
      label: `POST /api/v1/migrations, ${saturation.concurrency} clients, closed loop`,
      samples: rates.a,
    },
    baseline: {
      label: `bare queue.add, ${saturation.concurrency} concurrent callers`,
      samples: rates.b,
    },
    goal: { ratio: 0.5, on: 'p50', text: "rate at least half the bare loop's" },
    warmupRounds: rates.warmupRounds,
    notes: [
      `One sample per ${seconds} s window; windows alternate POST and the bare loop at the concurrency where ` +
        "POST saturated. The bare loop runs in the API's thread; HTTP requests come from a worker thread, over a lean keep-alive client (bench/lib/lean-http.ts).",
      ceilingNote(
        percentile(rates.b, 50) / 2,
        percentile(httpRates.samples.bare, 50),
        percentile(httpRates.samples.noop, 50),
      ),
    ],
  };
  return {
    item: 3,
    title: 'Enqueue cost',
    comparisons: [latency, rate],
    series: [saturation.series, httpSeries(httpRates, saturation.concurrency, stepMs)],
    notes: [
      'The gateway runs in-process with the fixture planner: the item measures the cost of accepting a ' +
        'migration, not the cluster reads of the pre-flight (items 1 and 2 count those).',
    ],
  };
}

/** The no-op route's and a bare server's saturation beside POST's: the share of the gap that is HTTP. */
function httpSeries(rates: Figures['httpRates'], concurrency: number, stepMs: number): Series {
  const { post, noop, bare } = rates.samples;
  const row = (label: string, samples: number[]) => [
    label,
    percentile(samples, 50),
    Math.min(...samples),
    Math.max(...samples),
  ];
  const share = (samples: number[]) =>
    Math.round((100 * percentile(samples, 50)) / percentile(noop, 50));
  return {
    id: 'enqueue.http-context',
    title: `Context: POST, the no-op route and a bare HTTP server, ${concurrency} clients, closed loop (no goal)`,
    columns: ['route', 'median requests/s', 'min', 'max'],
    rows: [
      row('POST /api/v1/migrations', post),
      row('no-op route, same middleware', noop),
      row('bare node:http server, no framework, 204', bare),
    ],
    notes: [
      `${post.length} windows of ${stepMs / 1000} s each, alternating, after ${rates.warmupRounds} dropped. ` +
        `POST's median is ${share(post)} % of the no-op route's: the no-op route's rate is the ceiling ` +
        "HTTP, the request log, the token check and the rate limit's round trip leave to any route in " +
        'this process, whatever the enqueue costs.',
      `The bare server (node:http reading the body and answering 204, in the same process, from the same ` +
        `load generator) is the ceiling of any HTTP route served by one Node process on this machine; ` +
        `the no-op route reaches ${Math.round((100 * percentile(noop, 50)) / percentile(bare, 50))} % of it.`,
    ],
  };
}

/** Whether the rate goal is within reach of HTTP, and of the gateway's HTTP layer. */
function ceilingNote(goalRate: number, bareHttpRate: number, noopRate: number): string {
  const figures =
    `The goal asks for ${perSecond(goalRate)} requests/s; a bare node:http server answering 204 with ` +
    `no framework saturated at ${perSecond(bareHttpRate)}/s in the same run (context table below)`;
  if (bareHttpRate < goalRate) {
    return (
      `${figures}: the goal is out of reach of any HTTP route served by one Node process here, ` +
      'whatever the gateway does.'
    );
  }
  if (noopRate < goalRate) {
    return (
      `${figures}, but the gateway's no-op route (the same HTTP layer and middleware, no enqueue) ` +
      `saturated at ${perSecond(noopRate)}/s: the goal is out of reach of this HTTP layer before ` +
      'any enqueue work.'
    );
  }
  return `${figures}, and the no-op route at ${perSecond(noopRate)}/s: the gap is the enqueue's own work.`;
}

function perSecond(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}
