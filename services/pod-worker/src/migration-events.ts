import type { V1Pod } from '@kubernetes/client-node';

import { recordPodEvent, type EventType } from '@aso/shared';

import type { SwitchContext } from './switch-context.ts';

/** The reasons of the Events the pod stage records; `kubectl describe pod` lists them. */
export type MigrationEventReason =
  | 'MigrationStarted'
  | 'NewPodCreated'
  | 'NewPodReady'
  | 'EvictionBlocked'
  | 'OriginalEvicted'
  | 'OriginalDeleted'
  | 'OriginalRemoved'
  | 'DeletionCostLowered'
  | 'JoinedReplicaSet'
  | 'ReplicaSetRemovedOther'
  | 'MigrationRolledBack'
  | 'OriginalRecreated';

/**
 * Records the same step on each of the pods involved, so that the original and the
 * new pod both tell the story. Every message names the migration.
 */
export async function recordStep(
  context: SwitchContext,
  pods: (V1Pod | null | undefined)[],
  reason: MigrationEventReason,
  message: string,
  type: EventType = 'Normal',
): Promise<void> {
  const id = context.stage.record.migration_id;
  const present = pods.filter((pod): pod is V1Pod => Boolean(pod?.metadata?.name));

  await Promise.all(
    present.map((pod) =>
      recordPodEvent(context.kube.core, context.stage.log, pod, {
        type,
        reason,
        message: `migration ${id}: ${message}`,
      }),
    ),
  );
}
