import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

export const SIMULATOR_COMPONENT = 'aso-node-simulator';

export interface PodEvent {
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
}

/** Records a core/v1 Event on the pod, so `kubectl describe pod` shows it like kubelet events. */
export async function recordPodEvent(core: CoreV1Api, pod: V1Pod, event: PodEvent): Promise<void> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const now = new Date();

  await core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name,
        namespace,
        uid: pod.metadata?.uid ?? '',
      },
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: SIMULATOR_COMPONENT, host: pod.spec?.nodeName ?? '' },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: SIMULATOR_COMPONENT,
      reportingInstance: pod.spec?.nodeName ?? '',
    },
  });
}
