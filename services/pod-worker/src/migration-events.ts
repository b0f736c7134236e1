import type { V1Pod } from '@kubernetes/client-node';

import { recordPodEvent, type EventDraft, type EventType } from '@aso/shared';

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
 * Tells the migration's event log (what GET /api/v1/migrations/:id/events streams)
 * about a step of the switch, once per step: the Kubernetes Events of recordStep
 * go to each pod involved. Never throws.
 */
export async function announceStep(context: SwitchContext, draft: EventDraft): Promise<void> {
  const { store, record, log } = context.stage;
  await store.events.emit(record, { stage: 'pod', ...draft }, log, context.stage.now());
}

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
