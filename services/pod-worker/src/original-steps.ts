import type { V1Pod } from '@kubernetes/client-node';

import {
  DisruptionBudgetBlockedError,
  PodNotFoundError,
  type MigrationRecord,
  type RemovalMethod,
} from '@aso/shared';

import { announceStep, recordStep } from './migration-events.ts';
import { readPod } from './new-pod.ts';
import { removeOriginalPod } from './original-removal.ts';
import { watchPodUntil } from './pod-watch.ts';
import { beginSwitch, freshRecord, updateRecord, type SwitchContext } from './switch-context.ts';

/**
 * The original as captured. Null when this migration already began removing it (or
 * created the new pod) and it is gone; any other disappearance fails the migration.
 */
export async function readOriginal(context: SwitchContext): Promise<V1Pod | null> {
  const { pod_namespace: namespace, pod_name: name } = context.stage.record.request;
  const pod = await readPod(context.kube, namespace, name);
  const original = asOriginal(context.stage.record, pod);
  if (original) return original;

  if (switchBegun(await freshRecord(context))) return null;
  throw new PodNotFoundError(namespace, name);
}

/** The pod if it is the original itself (its uid), null if it is gone or another pod. */
export function asOriginal(record: MigrationRecord, pod: V1Pod | null): V1Pod | null {
  return pod?.metadata?.uid === record.details.source_pod_uid ? pod : null;
}

/** Whether the migration began to replace the original: after that, its absence is ours. */
export function switchBegun(record: MigrationRecord): boolean {
  return (
    record.progress.new_pod_created ||
    record.progress.original_removed ||
    record.details.removal !== null
  );
}

/**
 * Whether the original has left or is leaving: gone, replaced by a pod of the same
 * name, or terminating.
 */
export async function originalLeaving(
  context: SwitchContext,
  record: MigrationRecord,
): Promise<boolean> {
  const { pod_namespace: namespace, pod_name: name } = record.request;
  const pod = await readPod(context.kube, namespace, name);
  const original = asOriginal(record, pod);
  return !original || Boolean(original.metadata?.deletionTimestamp);
}

/**
 * Evicts the original (PodDisruptionBudgets respected, refusals retried until the
 * deadline) or, with force, deletes it. The method is recorded before the request,
 * so that a rollback knows the original's absence is this migration's doing.
 */
export async function removeOriginal(
  context: SwitchContext,
  original: V1Pod,
  newPod: V1Pod | null,
): Promise<RemovalMethod> {
  const { force, source_node: source } = context.stage.record.request;
  const method: RemovalMethod = force ? 'deleted' : 'evicted';
  if (original.metadata?.deletionTimestamp) return method;

  await beginSwitch(context, (record) => {
    record.details.removal = method;
    record.message = force ? 'deleting the original' : 'evicting the original';
  });
  try {
    await removeOriginalPod(context.kube, original, {
      force,
      deadline: Date.now() + context.stage.remainingMs(),
      log: context.stage.log,
      onBlocked: (reason, refusals) => reportBlocked(context, original, reason, refusals),
    });
  } catch (error) {
    // Refused for good: the original was never touched.
    if (error instanceof DisruptionBudgetBlockedError) {
      await updateRecord(context, (record) => {
        record.details.removal = null;
      });
    }
    throw error;
  }

  const how = force ? 'deleted (force: PodDisruptionBudgets not consulted)' : 'evicted';
  const reason = force ? 'OriginalDeleted' : 'OriginalEvicted';
  await recordStep(context, [original, newPod], reason, `original ${how} from ${source}`);
  context.stage.log.info({ method }, 'original removal requested');
  return method;
}

async function reportBlocked(
  context: SwitchContext,
  original: V1Pod,
  reason: string,
  refusals: number,
): Promise<void> {
  if (refusals > 1) return;
  await announceStep(context, {
    type: 'eviction-blocked',
    message:
      'a PodDisruptionBudget refuses the eviction of the original; retrying until the deadline',
    reason,
  });
  await recordStep(
    context,
    [original],
    'EvictionBlocked',
    `a PodDisruptionBudget refuses the eviction (${reason}); retrying until the deadline`,
    'Warning',
  );
}

/** Waits (bounded) until the pod with this uid no longer exists; false on timeout. */
export async function waitUntilGone(
  context: SwitchContext,
  pod: V1Pod,
  timeoutMs: number,
): Promise<boolean> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid;

  return watchPodUntil(
    context.kube,
    namespace,
    name,
    (seen) => (seen?.metadata?.uid === uid ? null : { done: true }),
    timeoutMs,
    () => new Error('still there'),
  ).catch(() => false);
}

/** Records that the original is gone (the first time only) and tells the pods. */
export async function markOriginalGone(
  context: SwitchContext,
  pods: (V1Pod | null)[],
  message: string,
): Promise<MigrationRecord> {
  const seen = { first: false };
  const record = await updateRecord(context, (r) => {
    seen.first = r.details.original_removed_at === null;
    r.progress.original_removed = true;
    r.details.original_removed_at ??= context.stage.now().toISOString();
    r.message = message;
  });

  if (seen.first) {
    const { pod_name: name, source_node: source } = record.request;
    await announceStep(context, {
      type: 'original-removed',
      status: record.status,
      message: `original ${name} has left ${source}`,
      pod: { name, node: source },
    });
    await recordStep(context, pods, 'OriginalRemoved', `original ${name} has left ${source}`);
  }
  return record;
}
