import { isNotFound, kubernetesError, workloadOf, type MigrationRecord } from '@aso/shared';

import { removeCheckpointClaim } from './checkpoint-claim.ts';
import { ANNOTATION_CREATED_BY_MIGRATION, LABEL_MIGRATION_ID } from './labels.ts';
import { recordStep } from './migration-events.ts';
import { deletePod, readPod } from './new-pod.ts';
import { asOriginal, waitUntilGone } from './original-steps.ts';
import { checkpointClaimName, newPodName } from './pod-names.ts';
import { removalWaitMs, type SwitchContext } from './switch-context.ts';

/**
 * Deletes the new pod if this migration created it. Found by its deterministic name
 * and migration label, not only from the record, so it also cleans up after an
 * attempt that died before recording its progress. With `wait`, returns only once
 * the pod is gone, so that it has released the claims it mounted.
 */
export async function removeNewPod(
  context: SwitchContext,
  record: MigrationRecord,
  options: { wait: boolean },
): Promise<string[]> {
  const namespace = record.request.pod_namespace;
  const name = newPodName(workloadOf(record), record.migration_id);
  const pod = await readPod(context.kube, namespace, name);
  if (pod?.metadata?.labels?.[LABEL_MIGRATION_ID] !== record.migration_id) return [];

  if (!pod.metadata.deletionTimestamp) {
    await recordStep(
      context,
      [pod],
      'MigrationRolledBack',
      `rolled back: this pod is removed and ${record.request.pod_name} stays the workload's pod`,
      'Warning',
    );
    await deletePod(context.kube, namespace, name, pod.metadata.uid ?? '');
  }
  if (options.wait && !(await waitUntilGone(context, pod, removalWaitMs(context, pod)))) {
    throw new Error(`new pod ${namespace}/${name} was still terminating after its deletion`);
  }
  return [`deleted new pod ${name}`];
}

/** Deletes the checkpoint claim only if this migration created it; a reused claim stays. */
export async function removeCreatedClaim(
  context: SwitchContext,
  record: MigrationRecord,
): Promise<string[]> {
  const namespace = record.request.pod_namespace;
  const podName = workloadOf(record);
  if (!record.request.preserve_pv) return [];
  if (!(await claimCreatedBy(context, namespace, podName, record))) return [];

  await removeCheckpointClaim(context.kube, namespace, checkpointClaimName(podName));
  return [`deleted checkpoint claim ${checkpointClaimName(podName)}`];
}

async function claimCreatedBy(
  context: SwitchContext,
  namespace: string,
  podName: string,
  record: MigrationRecord,
): Promise<boolean> {
  try {
    const claim = await context.kube.core.readNamespacedPersistentVolumeClaim({
      name: checkpointClaimName(podName),
      namespace,
    });
    return claim.metadata?.annotations?.[ANNOTATION_CREATED_BY_MIGRATION] === record.migration_id;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw kubernetesError(error, 'reading the checkpoint claim');
  }
}

/** Tells the original, if it still runs, that it stays the workload's pod. */
export async function tellOriginalKept(
  context: SwitchContext,
  record: MigrationRecord,
): Promise<void> {
  const { pod_namespace: namespace, pod_name: name, source_node: source } = record.request;
  const original = asOriginal(record, await readPod(context.kube, namespace, name));
  if (!original || original.metadata?.deletionTimestamp) return;

  await recordStep(
    context,
    [original],
    'MigrationRolledBack',
    `rolled back: this pod keeps running on ${source}`,
    'Warning',
  );
}
