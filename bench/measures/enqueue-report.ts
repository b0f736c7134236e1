/** Item 3's report section: the comparisons, their notes and the context tables. */
import type { interleave, interleaveMany, interleaveSides } from '../lib/interleave.ts';
import type { RequestCost } from '../lib/request-cost.ts';
import { percentile } from '../lib/stats.ts';
import type { Comparison, Section, Series } from '../lib/types.ts';
import type { Saturation } from './enqueue.ts';

export interface Figures {
  saturation: Saturation;
  rates: Awaited<ReturnType<typeof interleave>>;
  /** POST, the no-op route and a bare node:http server, closed loop at the saturation concurrency. */
  httpRates: Awaited<ReturnType<typeof interleaveSides<'post' | 'noop' | 'bare'>>>;
  latencies: Awaited<ReturnType<typeof interleaveMany>>;
  ratePerSecond: number;
  stepMs: number;
  /** CPU per request of each closed-loop side, from the metered windows. */
  costs: Costs;
}

export type Costs = Record<'post' | 'noop' | 'bareHttp' | 'bareAdd', RequestCost | undefined>;

export function section({
  saturation,
  rates,
  httpRates,
  latencies,
  ratePerSecond,
  stepMs,
  costs,
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
      costNote(percentile(rates.b, 50) / 2, costs),
    ],
  };
  return {
    item: 3,
    title: 'Enqueue cost',
    comparisons: [latency, rate],
    series: [
      saturation.series,
      httpSeries(httpRates, saturation.concurrency, stepMs),
      costSeries(costs, saturation.concurrency),
    ],
    notes: [
      'The gateway runs in-process with the fixture planner: the item measures the cost of accepting a ' +
        'migration, not the cluster reads of the pre-flight (items 1 and 2 count those).',
      'No worker takes the queued jobs, so every accepted POST leaves its keys behind (millions over the ' +
        'item, gigabytes of Redis): each phase (the saturation search, POST against the bare loop, the HTTP ' +
        'context, the latency windows) starts after the keys of the phases before it are removed.',
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

/** CPU per request of each side: where the time of a POST goes, beside the bare operations. */
function costSeries(costs: Costs, concurrency: number): Series {
  const row = (label: string, cost: RequestCost | undefined) =>
    cost
      ? [label, tenths(cost.threadMicros), tenths(cost.redisMicros), cost.windows]
      : [label, 'not measured', 'not measured', 0];
  return {
    id: 'enqueue.cost',
    title: `Context: CPU per request, ${concurrency} clients, closed loop (no goal)`,
    columns: ['side', 'serving thread µs', 'Redis µs', 'windows'],
    rows: [
      row('POST /api/v1/migrations', costs.post),
      row('no-op route, same middleware', costs.noop),
      row('bare node:http server, 204', costs.bareHttp),
      row('bare queue.add (one add)', costs.bareAdd),
    ],
    notes: [
      "CPU time over each window after the warm-up, divided by the requests it served; the median of the windows. Serving thread: this process's main thread, where the gateway, the bare server and the bare loop run (the load generator has a thread of its own), from /proc; Redis: its main thread, from INFO cpu.",
      'Both count all the work done in the window, garbage collection, system calls and event handling included, so a figure is what a request costs at this load, not its code path alone.',
    ],
  };
}

/** Whether the goal's rate fits the CPU a POST takes from the serving thread and from Redis. */
function costNote(goalRate: number, costs: Costs): string {
  const { post, noop, bareAdd } = costs;
  if (!post || !noop || !bareAdd) return 'The CPU per request was not measured.';

  const budget = 1e6 / goalRate;
  const over = [
    post.threadMicros > budget ? 'the serving thread' : undefined,
    post.redisMicros > budget ? 'Redis' : undefined,
  ].filter((name) => name !== undefined);
  return (
    `At the goal's rate a POST may take at most ${tenths(budget)} µs of the serving thread and as much ` +
    `of Redis; it took ${tenths(post.threadMicros)} µs and ${tenths(post.redisMicros)} µs (the no-op ` +
    `route ${tenths(noop.threadMicros)} µs and ${tenths(noop.redisMicros)} µs, one bare queue.add ` +
    `${tenths(bareAdd.threadMicros)} µs and ${tenths(bareAdd.redisMicros)} µs; context table below)` +
    (over.length === 0
      ? '.'
      : `: ${over.join(' and ')} would on ${over.length > 1 ? 'their' : 'its'} own hold POST below the goal.`) +
    floorNote(budget, noop, bareAdd)
  );
}

/**
 * A POST passes the no-op route's middleware and queues a job: the two together are
 * a floor under its cost, whatever else the enqueue is made to save.
 */
function floorNote(budget: number, noop: RequestCost, bareAdd: RequestCost): string {
  const thread = noop.threadMicros + bareAdd.threadMicros;
  const redis = noop.redisMicros + bareAdd.redisMicros;
  if (thread <= budget && redis <= budget) return '';
  return (
    ` The no-op route and one bare queue.add alone take ${tenths(thread)} µs of the serving thread ` +
    `and ${tenths(redis)} µs of Redis: no route behind the same middleware that queues a job fits ` +
    'the goal on this machine.'
  );
}

function tenths(value: number): number {
  return Math.round(value * 10) / 10;
}

function perSecond(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}
