import type { Measure, Section } from '../lib/types.ts';
import { childPidsNamed, cpuSecondsOf, cpuSecondsOfAll } from '../support/proc-cpu.ts';
import type { Product } from '../support/product.ts';
import { createAndAwait, deleteBenchPods, samplePod, uniqueName } from '../support/sample-pods.ts';
import { withSession } from '../support/session.ts';

/** Migrations run at once per sample: more CPU per sample than one, so ticks of 10 ms matter less. */
const BATCH = 4;
const WARM_UP_BATCHES = 1;
/** Quiet time before each batch, to read the control plane's CPU with no migration running. */
const IDLE_WINDOW_MS = 2_000;
const CONTROL_PLANE = ['kube-apiserver', 'etcd'] as const;

interface Batch {
  /** CPU seconds per migration of the gateway and the workers. */
  product: number;
  /** CPU seconds per migration of kube-apiserver and etcd over the same window. */
  controlPlane: number;
  /** Per service, CPU seconds per migration. */
  byService: Map<string, number>;
  seconds: number;
  /** kube-apiserver and etcd CPU seconds per second just before the batch, with none running. */
  idleRate: number;
}

/**
 * Item 9: CPU seconds (user + system, /proc/<pid>/stat) the gateway and the workers
 * spend per migration of the sample pod, against those of kube-apiserver and etcd over
 * the same migrations (batches of four at once, from the first POST to the last end).
 */
const cpu: Measure = (context) =>
  withSession(context, {}, async ({ cluster, namespace, product }) => {
    const found = await childPidsNamed(CONTROL_PLANE);
    const controlPids = CONTROL_PLANE.flatMap((name) => found.get(name) ?? []);
    if (controlPids.length < CONTROL_PLANE.length) {
      throw new Error('kube-apiserver and etcd are not children of the bench process');
    }

    const batches: Batch[] = [];
    const rounds = context.quick ? 2 : 5;
    for (let round = -WARM_UP_BATCHES; round < rounds; round++) {
      const pods = Array.from({ length: BATCH }, () => uniqueName('tf-cpu'));
      await createAndAwait(
        cluster.kubeConfig,
        pods.map((name) => samplePod({ name, namespace, node: 'worker-1', requestDivisor: 4 })),
      );
      const idleRate = await idleCpuRate(controlPids);
      const batch = { ...(await measureBatch(product, controlPids, namespace, pods)), idleRate };
      await deleteBenchPods(cluster.kubeConfig, namespace);
      if (round < 0) continue;

      batches.push(batch);
      context.log(
        `cpu batch ${round + 1}/${rounds}: product ${batch.product.toFixed(3)} s, ` +
          `apiserver+etcd ${batch.controlPlane.toFixed(3)} s per migration`,
      );
    }
    return section(batches);
  });

export default cpu;

async function measureBatch(
  product: Product,
  controlPids: number[],
  namespace: string,
  pods: string[],
): Promise<Omit<Batch, 'idleRate'>> {
  const services = product.services;
  const before = await Promise.all(services.map((service) => cpuSecondsOf(service.pid)));
  const controlBefore = await cpuSecondsOfAll(controlPids);
  const startedAt = Date.now();

  await Promise.all(
    pods.map(async (pod) => {
      const id = await product.submit({
        pod_name: pod,
        pod_namespace: namespace,
        source_node: 'worker-1',
        target_node: 'worker-2',
        preserve_pv: true,
      });
      await product.completed(id);
    }),
  );

  const after = await Promise.all(services.map((service) => cpuSecondsOf(service.pid)));
  const controlAfter = await cpuSecondsOfAll(controlPids);
  const byService = new Map(
    services.map((service, index) => [
      service.label,
      ((after[index] ?? 0) - (before[index] ?? 0)) / pods.length,
    ]),
  );
  return {
    product: [...byService.values()].reduce((sum, seconds) => sum + seconds, 0),
    controlPlane: (controlAfter - controlBefore) / pods.length,
    byService,
    seconds: (Date.now() - startedAt) / 1000,
  };
}

/** CPU seconds per second kube-apiserver and etcd use with no migration running. */
async function idleCpuRate(pids: number[]): Promise<number> {
  const before = await cpuSecondsOfAll(pids);
  await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
  return ((await cpuSecondsOfAll(pids)) - before) / (IDLE_WINDOW_MS / 1000);
}

function mean(values: number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

function section(batches: Batch[]): Section {
  const labels = [...(batches[0]?.byService.keys() ?? [])];
  const perService = labels
    .map((label) => `${label} ${mean(batches.map((b) => b.byService.get(label) ?? 0)).toFixed(3)}`)
    .join(', ');
  const idleRate = mean(batches.map((b) => b.idleRate));
  const idleShare = mean(batches.map((b) => (b.idleRate * b.seconds) / BATCH));

  return {
    item: 9,
    title: 'CPU seconds per migration',
    comparisons: [
      {
        id: 'cpu.per-migration',
        title: 'CPU seconds per migration: the product against kube-apiserver and etcd',
        unit: 'cpu-s',
        better: 'lower',
        subject: { label: 'gateway + workers', samples: batches.map((b) => b.product) },
        baseline: { label: 'kube-apiserver + etcd', samples: batches.map((b) => b.controlPlane) },
        warmupRounds: WARM_UP_BATCHES,
        notes: [
          `batches of ${BATCH} migrations of the sample pod at once (checkpoint claim, ` +
            "make-before-break); each sample is a batch's CPU divided by its migrations",
          `mean per service (cpu-s per migration): ${perService}`,
          `of the apiserver's and etcd's figure, about ${idleShare.toFixed(3)} s per migration ` +
            `is their idle rate (${idleRate.toFixed(3)} cpu-s/s, read for ${IDLE_WINDOW_MS / 1000} s ` +
            'before each batch with no migration running: controllers, leases, the status ' +
            'updates of the simulator)',
          'the node simulator runs inside the bench process and is counted on neither side; ' +
            "the bench's own polling reads Redis, not the gateway",
        ],
      },
    ],
  };
}
