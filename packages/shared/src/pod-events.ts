import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

import type { Logger } from './logger.ts';

/** The component name `kubectl describe` shows as the source of our events. */
export const EVENT_SOURCE = 'ai-storage-orchestrator';

export type EventType = 'Normal' | 'Warning';

/**
 * Records a Kubernetes Event on a pod, so that `kubectl describe pod` tells the
 * story of its migration. Events are a courtesy: failing to write one is logged
 * and never fails the migration.
 */
export async function recordPodEvent(
  core: CoreV1Api,
  log: Logger,
  pod: V1Pod,
  event: { type: EventType; reason: string; message: string },
): Promise<void> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const now = new Date();

  try {
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          name,
          namespace,
          ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
        },
        type: event.type,
        reason: event.reason,
        // The API server limits an event message to 1 KiB.
        message: event.message.slice(0, 1024),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: EVENT_SOURCE },
        reportingComponent: EVENT_SOURCE,
        reportingInstance: process.env['HOSTNAME'] ?? EVENT_SOURCE,
      },
    });
  } catch (err) {
    log.warn({ err, eventPod: name, reason: event.reason }, 'could not record a pod event');
  }
}
