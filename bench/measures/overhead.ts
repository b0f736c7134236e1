import type { MigrationRecord } from '@aso/shared';

import type { Measure, Section } from '../lib/types.ts';
import { alternate } from '../support/alternate.ts';
import { bareClient } from '../support/bare-migration.ts';
import { sampleMove, type BenchRequest } from '../support/product.ts';
import { createAndAwait, deleteBenchPods, samplePod, uniqueName } from '../support/sample-pods.ts';
import { withSession } from '../support/session.ts';

const WARM_UP_ROUNDS = 1;

/**
 * Item 1: a migration of the sample training pod through the gateway and the three
 * queues (A) against a bare client-node script (B) making the minimal sequence of the same
 * calls (bench/support/bare-migration.ts; item 2 counts both),
 * both make-before-break with a checkpoint claim, on the same simulator, interleaved.
 * A runs from the POST to the record's finished_at; B from its first call to its last.
 */
const overhead: Measure = (context) =>
  withSession(context, {}, async ({ cluster, namespace, product }) => {
    const { quick, log } = context;
    const bare = bareClient(cluster.kubeconfigPath);
    const rounds = quick ? 2 : 10;
    const productMs: number[] = [];
    const bareMs: number[] = [];
    const stageGaps: StageGaps[] = [];

    for (let round = -WARM_UP_ROUNDS; round < rounds; round++) {
      const [podA, podB] = [uniqueName('tf-train-a'), uniqueName('tf-train-b')];
      await createAndAwait(
        cluster.kubeConfig,
        [podA, podB].map((name) => samplePod({ name, namespace, node: 'worker-1' })),
      );
      const request = (pod: string): BenchRequest => sampleMove(namespace, pod);

      const [a, b] = await alternate(
        round,
        async () => {
          const startedAt = Date.now();
          const record = await product.completed(await product.submit(request(podA)));
          return { ms: Date.parse(record.finished_at ?? '') - startedAt, record };
        },
        async () => {
          const startedAt = Date.now();
          await bare.migrate(request(podB));
          return { ms: Date.now() - startedAt };
        },
      );
      await deleteBenchPods(cluster.kubeConfig, namespace);
      if (round < 0) continue;

      productMs.push(a.ms);
      bareMs.push(b.ms);
      stageGaps.push(gapsOf(a.record, Date.parse(a.record.created_at)));
      log(`overhead round ${round + 1}/${rounds}: product ${a.ms} ms, bare ${b.ms} ms`);
    }

    return section(productMs, bareMs, stageGaps);
  });

export default overhead;

/** Where a product migration spent its time, in ms, from its record's stage times. */
interface StageGaps {
  toCapture: number;
  capture: number;
  toPod: number;
  pod: number;
  toMetrics: number;
  metrics: number;
}

function gapsOf(record: MigrationRecord, createdAt: number): StageGaps {
  const at = (text: string | null | undefined) => Date.parse(text ?? '');
  const { capture, pod, metrics } = record.stages;
  return {
    toCapture: at(capture.started_at) - createdAt,
    capture: at(capture.finished_at) - at(capture.started_at),
    toPod: at(pod.started_at) - at(capture.finished_at),
    pod: at(pod.finished_at) - at(pod.started_at),
    toMetrics: at(metrics.started_at) - at(pod.finished_at),
    metrics: at(metrics.finished_at) - at(metrics.started_at),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

function section(productMs: number[], bareMs: number[], gaps: StageGaps[]): Section {
  const medianOf = (key: keyof StageGaps) => median(gaps.map((gap) => gap[key]));
  return {
    item: 1,
    title: 'Orchestration overhead',
    comparisons: [
      {
        id: 'overhead.migration',
        title: 'One migration of the sample training pod, end to end',
        unit: 'ms',
        better: 'lower',
        subject: { label: 'gateway + three queues', samples: productMs },
        baseline: { label: 'bare client-node script, minimal calls', samples: bareMs },
        goal: { ratio: 1.3, on: 'p50', text: 'at most 1.3 times the bare script' },
        warmupRounds: WARM_UP_ROUNDS,
        notes: [
          'make-before-break with a checkpoint claim (preserve_pv), worker-1 to worker-2; ' +
            'the product with ASO_STABILISATION_DELAY_MS=0, as the bare script waits for nothing after the switch',
          'both wait for the new pod Ready (watch) and for the evicted original to be gone; ' +
            'the simulator makes a pod Ready 1 s after start and caps graceful deletion at 2 s, which dominate both',
          `median product time per step (ms): queued to capture ${medianOf('toCapture')}, capture ${medianOf('capture')}, ` +
            `to pod stage ${medianOf('toPod')}, pod stage ${medianOf('pod')}, to metrics stage ${medianOf('toMetrics')}, ` +
            `metrics ${medianOf('metrics')}`,
        ],
      },
    ],
  };
}
