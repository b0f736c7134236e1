import type { V1Pod } from '@kubernetes/client-node';
import type { PodDirectives } from './annotations.ts';
import type { PodUsage } from './metrics-publisher.ts';
import type { PodStatusDocument } from './status-documents.ts';

/**
 * Usage for the containers that are running right now and have figures in the usage
 * annotation. Nothing is invented: without figures there is no PodMetrics, as with
 * metrics-server before its first scrape of a pod.
 */
export function podUsage(
  pod: V1Pod,
  directives: PodDirectives,
  status: PodStatusDocument,
): PodUsage | undefined {
  const running = [...(status.initContainerStatuses ?? []), ...status.containerStatuses]
    .filter((entry) => entry.state.running !== undefined)
    .map((entry) => entry.name);
  const containers = running.flatMap((name) => {
    const usage = directives.usage.get(name);
    return usage === undefined ? [] : [{ name, ...usage }];
  });

  if (containers.length === 0) {
    return undefined;
  }

  return {
    uid: pod.metadata?.uid ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    node: pod.spec?.nodeName ?? '',
    labels: pod.metadata?.labels ?? {},
    containers,
  };
}
