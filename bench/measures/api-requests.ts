import type { Measure, Section } from '../lib/types.ts';
import { alternate } from '../support/alternate.ts';
import { bareClient } from '../support/bare-migration.ts';
import { sampleMove, type BenchRequest, type Product } from '../support/product.ts';
import { difference, sumBy } from '../support/prom-text.ts';
import { createAndAwait, deleteBenchPods, samplePod, uniqueName } from '../support/sample-pods.ts';
import { withSession } from '../support/session.ts';

/** Why the product makes each request the minimal sequence does without (or makes more of). */
const PURPOSE: Record<string, string> = {
  'get pods':
    'the pre-flight reads the pod in the gateway and again in capture (the first check may be ' +
    'minutes old); the pod stage reads the original twice more (for its start event, then to ' +
    'check it is still the captured pod)',
  'list pods':
    'the pre-flight lists the pods on the target (capacity) in the gateway and in capture; each ' +
    'of the two watches first lists its pod by name, to resume from a fresh version after a ' +
    'restart or a 410',
  'get nodes':
    'the pre-flight reads the target node in the gateway and in capture (exists, Ready, ' +
    'schedulable); the pod stage reads its kubernetes.io/hostname label',
  'create events':
    'Kubernetes Events on the original and the new pod at each step (planned, started, new pod ' +
    'created, Ready, original evicted and removed)',
  'get persistentvolumeclaims':
    'reuse check: the workload may already own its checkpoint claim from an earlier migration',
};

/**
 * Item 2: Kubernetes API requests per migration of the sample pod, by verb and resource,
 * from the services' aso_kubernetes_requests_total (gateway and every worker) around
 * each migration run alone, against the bare script of item 1, which makes the
 * minimal sequence and counts its own requests the same way.
 */
const apiRequests: Measure = (context) =>
  withSession(context, {}, async ({ cluster, namespace, product }) => {
    const rounds = context.quick ? 1 : 3;
    const bare = bareClient(cluster.kubeconfigPath);
    const productRuns: Map<string, number>[] = [];
    const bareRuns: Map<string, number>[] = [];

    for (let round = 0; round < rounds; round++) {
      const [podA, podB] = [uniqueName('tf-train-a'), uniqueName('tf-train-b')];
      await createAndAwait(
        cluster.kubeConfig,
        [podA, podB].map((name) => samplePod({ name, namespace, node: 'worker-1' })),
      );
      const request = (pod: string): BenchRequest => sampleMove(namespace, pod);

      const [a, b] = await alternate(
        round,
        async () => {
          const before = await requestCounts(product);
          await product.completed(await product.submit(request(podA)));
          return difference(await requestCounts(product), before);
        },
        async () => {
          const before = bare.counts();
          await bare.migrate(request(podB));
          return difference(bare.counts(), before);
        },
      );
      await deleteBenchPods(cluster.kubeConfig, namespace);
      productRuns.push(a);
      bareRuns.push(b);
      context.log(
        `api requests round ${round + 1}/${rounds}: product ${total(a)}, bare ${total(b)}`,
      );
    }
    return section(productRuns, bareRuns);
  });

export default apiRequests;

async function requestCounts(product: Product): Promise<Map<string, number>> {
  const texts = await product.metricsText();
  return sumBy(texts.values(), 'aso_kubernetes_requests_total', ['verb', 'resource']);
}

function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count, 0);
}

/** Mean count per migration of each "verb resource" over the runs. */
function meanPerRun(runs: Map<string, number>[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const run of runs) {
    for (const [key, count] of run) sums.set(key, (sums.get(key) ?? 0) + count);
  }
  return new Map([...sums].map(([key, sum]) => [key, sum / runs.length]));
}

function section(productRuns: Map<string, number>[], bareRuns: Map<string, number>[]): Section {
  const product = meanPerRun(productRuns);
  const minimum = meanPerRun(bareRuns);
  const keys = [...new Set([...product.keys(), ...minimum.keys()])].sort();
  const rows = keys.map((key) => {
    const made = product.get(key) ?? 0;
    const needed = minimum.get(key) ?? 0;
    const excess = made - needed;
    return [
      key,
      round1(made),
      round1(needed),
      round1(excess),
      excess > 0 ? (PURPOSE[key] ?? '') : '',
    ];
  });

  return {
    item: 2,
    title: 'Kubernetes API requests per migration',
    comparisons: [
      {
        id: 'api-requests.per-migration',
        title: 'Kubernetes API requests per migration of the sample pod (all verbs)',
        unit: 'requests',
        better: 'lower',
        subject: { label: 'gateway + workers', samples: productRuns.map(total) },
        baseline: { label: 'minimal sequence (bare script)', samples: bareRuns.map(total) },
        notes: [
          'the minimal sequence: get pod; get its usage (pods.metrics.k8s.io); create the ' +
            "checkpoint claim; create the new pod; watch it until Ready (from the create's " +
            'resourceVersion); create the eviction; watch until the original is gone; get ' +
            "the new pod's usage: 8 requests, two of them watches",
          'a watch counts once, when its answer starts; the product counts its requests through ' +
            'aso_kubernetes_requests_total of the gateway and every worker',
        ],
      },
    ],
    series: [
      {
        id: 'api-requests.by-verb',
        title: 'Requests per migration by verb and resource (mean over the runs)',
        columns: ['verb resource', 'product', 'minimum', 'excess', 'what the excess is for'],
        rows,
      },
    ],
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
