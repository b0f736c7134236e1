import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';

import type { Measure, Section } from '../lib/types.ts';
import { alternate } from '../support/alternate.ts';
import { createAndAwait, deleteBenchPods, samplePod, uniqueName } from '../support/sample-pods.ts';
import { withSession } from '../support/session.ts';
import { WorkloadWatch } from '../support/workload-watch.ts';

/** The data loader's known run time: what re-running it costs a re-created pod. */
const LOADER_SECONDS = 5;
const WARM_UP_ROUNDS = 1;

interface Run {
  downtimeMs: number;
  /** From the replacement's creation to its serving. */
  coldStartMs: number;
}

/**
 * Item 7: the workload's downtime when the product moves the sample training pod
 * (make-before-break) against deleting it and creating it again, as it is, on the
 * target (a bare script): both started once the loader has completed, with the
 * workload's pods followed by a watch. Also the time each replacement takes from its
 * creation to serving: the product's pod leaves the completed loader out, the re-created
 * one runs it again for its known time.
 */
const downtime: Measure = (context) =>
  withSession(context, {}, async ({ cluster, namespace, product }) => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const rounds = context.quick ? 2 : 6;
    const productRuns: Run[] = [];
    const recreateRuns: Run[] = [];

    for (let round = -WARM_UP_ROUNDS; round < rounds; round++) {
      const [podA, podB] = [uniqueName('tf-train-a'), uniqueName('tf-train-b')];
      await createAndAwait(
        cluster.kubeConfig,
        [podA, podB].map((name) =>
          samplePod({ name, namespace, node: 'worker-1', loaderSeconds: LOADER_SECONDS }),
        ),
      );
      const watchA = await WorkloadWatch.start(cluster.kubeConfig, namespace, podA);
      const watchB = await WorkloadWatch.start(cluster.kubeConfig, namespace, podB);

      const [a, b] = await alternate(
        round,
        async (): Promise<Run> => {
          const from = Date.now();
          const id = await product.submit({
            pod_name: podA,
            pod_namespace: namespace,
            source_node: 'worker-1',
            target_node: 'worker-2',
            preserve_pv: true,
          });
          const record = await product.completed(id);
          const newPod = record.details.new_pod_name ?? '';
          await watchA.until((pods) => pods.get(newPod)?.servingAt !== undefined);
          return runOf(watchA, newPod, from);
        },
        async (): Promise<Run> => {
          const from = Date.now();
          const original = await core.readNamespacedPod({ namespace, name: podB });
          const replacement = asIs(original, uniqueName(podB), 'worker-2');
          await core.deleteNamespacedPod({ namespace, name: podB });
          await core.createNamespacedPod({ namespace, body: replacement });
          const name = replacement.metadata?.name ?? '';
          await watchB.until((pods) => pods.get(name)?.servingAt !== undefined);
          return runOf(watchB, name, from);
        },
      );
      watchA.stop();
      watchB.stop();
      await deleteBenchPods(cluster.kubeConfig, namespace);
      if (round < 0) continue;

      productRuns.push(a);
      recreateRuns.push(b);
      context.log(
        `downtime round ${round + 1}/${rounds}: make-before-break ${a.downtimeMs} ms, ` +
          `delete-and-recreate ${b.downtimeMs} ms; cold start ${a.coldStartMs} / ${b.coldStartMs} ms`,
      );
    }
    return section(productRuns, recreateRuns);
  });

export default downtime;

function runOf(watch: WorkloadWatch, replacement: string, from: number): Run {
  const view = watch.pod(replacement);
  const servingAt = view?.servingAt ?? Number.NaN;
  return {
    downtimeMs: watch.downtimeMs(from, servingAt),
    coldStartMs: servingAt - (view?.seenAt ?? Number.NaN),
  };
}

/** The original again, unchanged but for its name and node: what a delete-and-recreate makes. */
function asIs(original: V1Pod, name: string, node: string): V1Pod {
  const spec = structuredClone(original.spec ?? { containers: [] });
  delete spec.nodeName;
  spec.nodeSelector = { 'kubernetes.io/hostname': node };
  // The admission plugin injects a fresh token volume; the original's copy would clash.
  spec.volumes = (spec.volumes ?? []).filter(
    (volume) => !volume.name.startsWith('kube-api-access-'),
  );
  for (const container of spec.containers) {
    if (!container.volumeMounts) continue;
    container.volumeMounts = container.volumeMounts.filter(
      (mount) => !mount.name.startsWith('kube-api-access-'),
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: original.metadata?.namespace ?? 'default',
      ...(original.metadata?.labels ? { labels: original.metadata.labels } : {}),
      ...(original.metadata?.annotations ? { annotations: original.metadata.annotations } : {}),
    },
    spec,
  };
}

function section(productRuns: Run[], recreateRuns: Run[]): Section {
  const definition =
    "downtime: the time, observed by a watch on the workload's pods, during which none " +
    'serves (trainer ready, no loader left to run, not terminating), from the first ' +
    'request of the switch until the replacement serves';
  return {
    item: 7,
    title: 'Downtime and cold start',
    comparisons: [
      {
        id: 'downtime.switch',
        title: 'Workload downtime while the sample training pod moves',
        unit: 'ms',
        better: 'lower',
        subject: {
          label: 'make-before-break (product)',
          samples: productRuns.map((r) => r.downtimeMs),
        },
        baseline: {
          label: 'delete, then re-create as is (bare script)',
          samples: recreateRuns.map((r) => r.downtimeMs),
        },
        warmupRounds: WARM_UP_ROUNDS,
        notes: [
          definition,
          'both start once the loader has completed and the trainer is ready; the re-created ' +
            `pod runs its loader again (${LOADER_SECONDS} s, sim.aso.dev/exit) before it serves`,
          "the pod's Ready condition is not used: Kubernetes reports a pod with a completed " +
            'app container (restartPolicy Never) as not Ready',
        ],
      },
      {
        id: 'downtime.cold-start',
        title: 'Replacement pod: from its creation to serving',
        unit: 'ms',
        better: 'lower',
        subject: {
          label: 'product (completed loader left out)',
          samples: productRuns.map((r) => r.coldStartMs),
        },
        baseline: {
          label: 're-created as is (loader runs again)',
          samples: recreateRuns.map((r) => r.coldStartMs),
        },
        warmupRounds: WARM_UP_ROUNDS,
        notes: [
          `the loader's known run time is ${LOADER_SECONDS} s; the simulator makes a ` +
            'container ready 1 s after it starts',
        ],
      },
    ],
  };
}
