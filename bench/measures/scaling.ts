import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import type { Comparison, Measure, Section } from '../lib/types.ts';
import { busyShare, machineCpuTicks } from '../support/proc-cpu.ts';
import type { Product } from '../support/product.ts';
import { difference, sumBy } from '../support/prom-text.ts';
import { createAndAwait, deleteBenchPods, samplePod, uniqueName } from '../support/sample-pods.ts';
import { withSession } from '../support/session.ts';

const IN_FLIGHT = [1, 2, 4, 8, 16] as const;
const REPLICAS = [1, 2] as const;
const NODES = ['worker-1', 'worker-2', 'worker-3'] as const;
/** Requests divided by this, so that 32 sample pods and their replacements fit on three nodes. */
const REQUEST_DIVISOR = 20;
const IDLE_PROBES = 20;

interface Point {
  replicas: number;
  inFlight: number;
  migrations: number;
  perMinute: number;
  /** Each migration's duration, in seconds. */
  durations: number[];
  /** Mean latency of the product's Kubernetes requests (watches excluded) during the point. */
  apiLatencyMs: number;
  /** Share of the machine's CPU busy during the point (every process, the bench's included). */
  machineBusy: number;
}

/**
 * Item 5: migrations per minute with 1 to 16 in flight, with one and two replicas of
 * each worker. Each point keeps its number of migrations in flight (a closed loop:
 * a new one starts when one ends) on pods spread over worker-1..3, each moving to the
 * next node. The product's caps are raised (64 in flight, 16 jobs per worker).
 */
const scaling: Measure = async (context) => {
  const points: Point[] = [];
  let idleMs = Number.NaN;
  for (const replicas of REPLICAS) {
    await withSession(context, { replicas }, async ({ cluster, namespace, product }) => {
      if (replicas === 1) idleMs = await idleLatencyMs(cluster.kubeConfig, namespace);
      for (const inFlight of IN_FLIGHT) {
        const migrations = context.quick ? Math.max(2, inFlight) : Math.max(4, 2 * inFlight);
        const point = await measurePoint(cluster.kubeConfig, namespace, product, {
          replicas,
          inFlight,
          migrations,
        });
        points.push(point);
        context.log(
          `scaling: ${replicas} replica(s), ${inFlight} in flight: ` +
            `${point.perMinute.toFixed(1)}/min, api ${point.apiLatencyMs.toFixed(1)} ms, ` +
            `machine CPU ${Math.round(point.machineBusy * 100)} % busy`,
        );
      }
    });
  }
  return section(points, idleMs);
};

export default scaling;

async function measurePoint(
  kubeConfig: KubeConfig,
  namespace: string,
  product: Product,
  shape: { replicas: number; inFlight: number; migrations: number },
): Promise<Point> {
  const pods = Array.from({ length: shape.migrations }, (_, index) => ({
    name: uniqueName('tf-scale'),
    source: NODES[index % NODES.length] ?? 'worker-1',
    target: NODES[(index + 1) % NODES.length] ?? 'worker-2',
  }));
  await createAndAwait(
    kubeConfig,
    pods.map(({ name, source }) =>
      samplePod({ name, namespace, node: source, requestDivisor: REQUEST_DIVISOR }),
    ),
  );

  const before = await latencyTotals(product);
  const ticksBefore = await machineCpuTicks();
  const durations: number[] = [];
  const queue = [...pods];
  const startedAt = Date.now();
  const loop = async () => {
    for (let pod = queue.shift(); pod; pod = queue.shift()) {
      const id = await product.submit({
        pod_name: pod.name,
        pod_namespace: namespace,
        source_node: pod.source,
        target_node: pod.target,
      });
      const record = await product.completed(id, 300_000);
      durations.push((record.duration_ms ?? Number.NaN) / 1000);
    }
  };
  await Promise.all(Array.from({ length: shape.inFlight }, loop));
  const elapsedMinutes = (Date.now() - startedAt) / 60_000;
  const machineBusy = busyShare(ticksBefore, await machineCpuTicks());
  const latency = difference(await latencyTotals(product), before);
  await deleteBenchPods(kubeConfig, namespace);

  return {
    ...shape,
    perMinute: shape.migrations / elapsedMinutes,
    durations,
    apiLatencyMs: ((latency.get('sum') ?? 0) / (latency.get('count') ?? 1)) * 1000,
    machineBusy,
  };
}

/** Sum and count of the product's request latency histogram, watches left out. */
async function latencyTotals(product: Product): Promise<Map<string, number>> {
  const texts = [...(await product.metricsText()).values()];
  const notWatch = (labels: Record<string, string>) => labels['verb'] !== 'watch';
  const sum = sumBy(texts, 'aso_kubernetes_request_duration_seconds_sum', [], notWatch);
  const count = sumBy(texts, 'aso_kubernetes_request_duration_seconds_count', [], notWatch);
  return new Map([
    ['sum', sum.get('') ?? 0],
    ['count', count.get('') ?? 0],
  ]);
}

/** Mean time of a single pod list in the namespace, on the otherwise idle cluster. */
async function idleLatencyMs(kubeConfig: KubeConfig, namespace: string): Promise<number> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.listNamespacedPod({ namespace });
  const startedAt = performance.now();
  for (let probe = 0; probe < IDLE_PROBES; probe++) await core.listNamespacedPod({ namespace });
  return (performance.now() - startedAt) / IDLE_PROBES;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

/** Per-migration throughput by Little's law: N in flight, each taking d s, make N·60/d per minute. */
function rateSamples(point: Point): number[] {
  return point.durations.map((seconds) => (point.inFlight * 60) / seconds);
}

/** The first level where doubling what is in flight gains less than half again. */
function bend(points: Point[], replicas: number): string {
  const series = points.filter((point) => point.replicas === replicas);
  for (let index = 1; index < series.length; index++) {
    const [previous, current] = [series[index - 1], series[index]];
    if (previous && current && current.perMinute < 1.5 * previous.perMinute) {
      const rates = `${previous.perMinute.toFixed(1)} to ${current.perMinute.toFixed(1)}/min`;
      return `${replicas} replica(s): bends at ${current.inFlight} in flight (${rates})`;
    }
  }
  return `${replicas} replica(s): no bend up to ${series.at(-1)?.inFlight ?? 0} in flight`;
}

function section(points: Point[], idleMs: number): Section {
  const baseline = points.find((point) => point.replicas === 1 && point.inFlight === 1);
  const base = baseline?.perMinute ?? Number.NaN;
  const rows = points.map((point) => [
    point.replicas,
    point.inFlight,
    point.migrations,
    round(point.perMinute, 1),
    round(point.perMinute / base, 2),
    round(median(point.durations), 2),
    round(point.apiLatencyMs, 1),
    round(point.apiLatencyMs / idleMs, 2),
    Math.round(point.machineBusy * 100),
  ]);
  const comparisons: Comparison[] = points
    .filter((point) => point.inFlight === 16)
    .map((point) => ({
      id: `scaling.16-in-flight.${point.replicas}-replica`,
      title: `Migrations per minute, 16 in flight, ${point.replicas} replica(s) of each worker`,
      unit: 'migrations/min',
      better: 'higher',
      subject: { label: `16 in flight, ${point.replicas} replica(s)`, samples: rateSamples(point) },
      baseline: {
        label: '1 in flight, 1 replica',
        samples: baseline ? rateSamples(baseline) : [],
      },
      notes: [
        "samples by Little's law: each migration of a point counts as N·60/duration per minute " +
          '(N in flight); the series below gives the measured count over elapsed time',
      ],
    }));

  return {
    item: 5,
    title: 'Scaling with migrations in flight and worker replicas',
    comparisons,
    series: [
      {
        id: 'scaling.points',
        title: 'Migrations per minute by migrations in flight and replicas of each worker',
        columns: [
          'replicas',
          'in flight',
          'migrations',
          'per minute',
          'ratio to 1 in flight, 1 replica',
          'p50 migration s',
          'apiserver latency ms',
          'ratio to idle',
          'machine CPU busy %',
        ],
        rows,
        notes: [
          bend(points, 1),
          bend(points, 2),
          `idle apiserver latency: ${idleMs.toFixed(1)} ms per request (a list of the ` +
            "namespace's pods, from the bench, cluster idle); under load: the mean of the " +
            "product's own aso_kubernetes_request_duration_seconds, watches left out",
          'machine CPU busy: every process of the machine during the point (other work on a ' +
            'shared machine included); near 100 % the control plane, the services and the ' +
            'simulator compete for the cores, and more replicas add processes, not cores',
          'each migration waits 1 s for the simulated Ready and up to 2 s for the evicted ' +
            "original to go (the simulator's deletion cap): a lone migration is mostly waiting, " +
            'so throughput grows with what is in flight until a shared resource saturates',
        ],
      },
    ],
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
