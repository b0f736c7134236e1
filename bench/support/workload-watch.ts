import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

import { BENCH_WORKLOAD_LABEL } from './sample-pods.ts';

/**
 * Whether a pod of the sample workload serves: its trainer is ready, no data loader
 * still has work to do (the loader is absent or has completed), and it is not being
 * deleted (a terminating pod leaves its Service's endpoints at once). The pod's own
 * Ready condition cannot say this for the sample pod: Kubernetes counts its completed
 * loader as a container that is not ready, so the original is never Ready once loaded.
 */
export function serves(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  const statuses = pod.status?.containerStatuses ?? [];
  const loader = statuses.find((status) => status.name === 'data-loader');
  const trainer = statuses.find((status) => status.name === 'trainer');
  const loaderDone = !loader || loader.state?.terminated?.reason === 'Completed';
  return loaderDone && trainer?.ready === true;
}

interface PodView {
  /** When the bench first saw the pod (epoch ms). */
  seenAt: number;
  /** When it first served, if it has. */
  servingAt?: number;
  serving: boolean;
}

/**
 * Follows the pods of one workload (its label, which new pods copy) with a watch and
 * keeps when each change was observed, so that the time with no serving pod can be
 * computed from the transitions rather than sampled.
 */
export class WorkloadWatch {
  private readonly pods = new Map<string, PodView>();
  /** [epoch ms, pods serving from then on], one entry per change of the count. */
  private readonly timeline: [number, number][] = [];
  private controller: AbortController | undefined;
  private waiters: (() => void)[] = [];

  static async start(
    kubeConfig: KubeConfig,
    namespace: string,
    workload: string,
  ): Promise<WorkloadWatch> {
    const watcher = new WorkloadWatch();
    const labelSelector = `${BENCH_WORKLOAD_LABEL}=${workload}`;
    const list = await kubeConfig
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector });
    for (const pod of list.items) watcher.observe('ADDED', pod);

    watcher.controller = await new Watch(kubeConfig).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      { labelSelector, resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: 300 },
      (type: string, pod: V1Pod) => {
        watcher.observe(type, pod);
      },
      () => undefined,
    );
    return watcher;
  }

  /** Resolves once `check` holds on the pods seen (checked at every change). */
  until(
    check: (pods: ReadonlyMap<string, PodView>) => boolean,
    timeoutMs = 120_000,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('the workload did not reach the awaited state in time'));
      }, timeoutMs);
      const test = () => {
        if (!check(this.pods)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== test);
        resolve();
      };
      this.waiters.push(test);
      test();
    });
  }

  /** The pod's view, if the watch has seen it. */
  pod(name: string): PodView | undefined {
    return this.pods.get(name);
  }

  /** Milliseconds within [from, to] during which no pod of the workload served. */
  downtimeMs(from: number, to: number): number {
    return timeWithNone(this.timeline, from, to);
  }

  stop(): void {
    this.controller?.abort();
  }

  private observe(type: string, pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const now = Date.now();
    const view = this.pods.get(name) ?? { seenAt: now, serving: false };
    view.serving = type !== 'DELETED' && serves(pod);
    if (view.serving) view.servingAt ??= now;
    this.pods.set(name, view);

    const count = [...this.pods.values()].filter((each) => each.serving).length;
    if (this.timeline.at(-1)?.[1] !== count) this.timeline.push([now, count]);
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Milliseconds within [from, to] during which the count was zero, from a timeline of
 * [epoch ms, count from then on] in time order. Before the first entry nothing is known,
 * so nothing is counted.
 */
export function timeWithNone(
  timeline: readonly (readonly [number, number])[],
  from: number,
  to: number,
): number {
  let none = 0;
  timeline.forEach(([at, count], index) => {
    const until = timeline[index + 1]?.[0] ?? to;
    const start = Math.max(at, from);
    const end = Math.min(until, to);
    if (count === 0 && end > start) none += end - start;
  });
  return none;
}
