import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import type { Comparison, Measure, Section } from '../lib/types.ts';
import { apiserverLatencyTotals, meanLatencyMs } from '../support/apiserver-metrics.ts';
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
  /** Mean latency kube-apiserver itself reports (apiserver_request_duration_seconds, no watches). */
  serverLatencyMs: number;
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
  let idle: IdleLatency = { clientMs: Number.NaN, serverMs: Number.NaN };
  for (const replicas of REPLICAS) {
    await withSession(context, { replicas }, async ({ cluster, namespace, product }) => {
      if (replicas === 1) idle = await idleLatency(cluster.kubeConfig, namespace);
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
  return section(points, idle);
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
  const serverBefore = await apiserverLatencyTotals(kubeConfig);
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
  const serverLatencyMs = meanLatencyMs(serverBefore, await apiserverLatencyTotals(kubeConfig));
  await deleteBenchPods(kubeConfig, namespace);

  return {
    ...shape,
    perMinute: shape.migrations / elapsedMinutes,
    durations,
    apiLatencyMs: ((latency.get('sum') ?? 0) / (latency.get('count') ?? 1)) * 1000,
    serverLatencyMs,
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

interface IdleLatency {
  /** A pod list in the namespace as the bench's client sees it. */
  clientMs: number;
  /** Every request the apiserver served meanwhile, as it reports them itself. */
  serverMs: number;
}

/** Apiserver latency on the otherwise idle cluster, from the client's side and the server's. */
async function idleLatency(kubeConfig: KubeConfig, namespace: string): Promise<IdleLatency> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.listNamespacedPod({ namespace });
  const serverBefore = await apiserverLatencyTotals(kubeConfig);
  const startedAt = performance.now();
  for (let probe = 0; probe < IDLE_PROBES; probe++) await core.listNamespacedPod({ namespace });
  const clientMs = (performance.now() - startedAt) / IDLE_PROBES;
  return {
    clientMs,
    serverMs: meanLatencyMs(serverBefore, await apiserverLatencyTotals(kubeConfig)),
  };
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

function section(points: Point[], idle: IdleLatency): Section {
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
    round(point.apiLatencyMs / idle.clientMs, 2),
    round(point.serverLatencyMs, 1),
    round(point.serverLatencyMs / idle.serverMs, 2),
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
          'request latency seen by the product ms',
          'ratio to idle',
          'apiserver own latency ms',
          'ratio to idle',
          'machine CPU busy %',
        ],
        rows,
        notes: [
          bend(points, 1),
          bend(points, 2),
          `latency seen by the product: the mean of its aso_kubernetes_request_duration_seconds ` +
            `(watches left out), against ${idle.clientMs.toFixed(1)} ms for a pod list from the ` +
            'bench on the idle cluster',
          `apiserver own latency: the mean of its apiserver_request_duration_seconds (watches ` +
            `left out), against ${idle.serverMs.toFixed(1)} ms on the idle cluster; where it ` +
            "stays low while the product's grows, the time is lost in the clients (CPU), not " +
            'in the apiserver',
          'machine CPU busy: every process of the machine during the point (other work on a ' +
            'shared machine included); near 100 % the control plane, the services and the ' +
            'simulator compete for the cores, and more replicas add processes, not cores',
          'sample pods with their requests divided by 20 and no checkpoint claim ' +
            '(make-before-break), each point on fresh pods whose loader has completed',
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
