import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';

import { isNotFound, kubernetesError, type MigrationRecord } from '@aso/shared';

import { ReplicaSetHandoffError } from './errors.ts';
import { joinPatch } from './handoff-labels.ts';
import { ANNOTATION_POD_DELETION_COST } from './labels.ts';
import { recordStep } from './migration-events.ts';
import { mergePatchPod, readPod } from './new-pod.ts';
import { asOriginal } from './original-steps.ts';
import type { SwitchContext } from './switch-context.ts';

/** The lowest pod-deletion-cost there is (an int32): this pod goes first. */
export const LOWEST_DELETION_COST = String(-(2 ** 31));

/** The original's ReplicaSet, which must exist and not be going away. */
export async function readReplicaSet(
  context: SwitchContext,
  original: V1Pod | null,
): Promise<V1ReplicaSet> {
  const namespace = context.stage.record.request.pod_namespace;
  const name = replicaSetName(context.stage.record, original);

  let replicaSet: V1ReplicaSet;
  try {
    replicaSet = await context.apps.readNamespacedReplicaSet({ name, namespace });
  } catch (error) {
    if (!isNotFound(error)) throw kubernetesError(error, `reading ReplicaSet ${namespace}/${name}`);
    throw new ReplicaSetHandoffError(`ReplicaSet ${namespace}/${name} does not exist`);
  }
  // A ReplicaSet being deleted adopts nothing.
  if (replicaSet.metadata?.deletionTimestamp) {
    throw new ReplicaSetHandoffError(`ReplicaSet ${namespace}/${name} is being deleted`);
  }
  return replicaSet;
}

/** The original's controller, or the one capture planned with once the original is gone. */
function replicaSetName(record: MigrationRecord, original: V1Pod | null): string {
  const owner = original?.metadata?.ownerReferences?.find(
    (reference) => reference.controller && reference.kind === 'ReplicaSet',
  );
  const planned = record.details.plan?.controller;
  const name = owner?.name ?? (planned?.kind === 'ReplicaSet' ? planned.name : undefined);
  if (name) return name;

  const { pod_namespace: namespace, pod_name: podName } = record.request;
  throw new ReplicaSetHandoffError(`pod ${namespace}/${podName} is not owned by a ReplicaSet`);
}

/**
 * Makes the original the first pod its ReplicaSet removes when it scales down: the
 * cost ranks just after pods that are unscheduled, not running or not Ready, none of
 * which the original is.
 * https://kubernetes.io/docs/reference/labels-annotations-taints/#pod-deletion-cost
 */
export async function lowerDeletionCost(
  context: SwitchContext,
  original: V1Pod,
  replicaSet: V1ReplicaSet,
): Promise<void> {
  const annotations = original.metadata?.annotations ?? {};
  if (annotations[ANNOTATION_POD_DELETION_COST] === LOWEST_DELETION_COST) return;

  const { pod_namespace: namespace, pod_name: name } = context.stage.record.request;
  await mergePatchPod(context.kube, namespace, name, {
    metadata: { annotations: { [ANNOTATION_POD_DELETION_COST]: LOWEST_DELETION_COST } },
  });
  await recordStep(
    context,
    [original],
    'DeletionCostLowered',
    `pod-deletion-cost set to ${LOWEST_DELETION_COST}, so that ReplicaSet ` +
      `${replicaSet.metadata?.name ?? ''} removes this pod once the new one joins`,
  );
}

/** Gives the original back the pod-deletion-cost it had, if it still carries ours. */
export async function restoreDeletionCost(
  context: SwitchContext,
  record: MigrationRecord,
): Promise<string[]> {
  const { pod_namespace: namespace, pod_name: name } = record.request;
  const live = asOriginal(record, await readPod(context.kube, namespace, name));
  if (!live || live.metadata?.deletionTimestamp) return [];

  const now = live.metadata?.annotations?.[ANNOTATION_POD_DELETION_COST];
  const before =
    record.details.original_manifest?.metadata?.annotations?.[ANNOTATION_POD_DELETION_COST];
  if (now !== LOWEST_DELETION_COST || before === LOWEST_DELETION_COST) return [];

  await mergePatchPod(context.kube, namespace, name, {
    metadata: { annotations: { [ANNOTATION_POD_DELETION_COST]: before ?? null } },
  });
  return [`restored the pod-deletion-cost of ${name}`];
}

/**
 * Gives the new pod the selector's labels back. It has no controller reference, so
 * the ReplicaSet adopts it as an orphan its selector matches.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export async function joinReplicaSet(
  context: SwitchContext,
  pod: V1Pod,
  replicaSet: V1ReplicaSet,
): Promise<V1Pod> {
  const patch = joinPatch(pod);
  if (!patch) return pod;

  const { pod_name: original, source_node: source } = context.stage.record.request;
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const joined = await mergePatchPod(context.kube, namespace, name, patch);
  await recordStep(
    context,
    [joined],
    'JoinedReplicaSet',
    `labels of ReplicaSet ${replicaSet.metadata?.name ?? ''} restored: it adopts this pod ` +
      `in place of ${original} on ${source}`,
  );
  context.stage.log.info({ newPod: name }, 'new pod joined the ReplicaSet');
  return joined;
}
