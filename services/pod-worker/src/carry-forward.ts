import { switchStarted, type StageResult, type SwitchStrategy } from '@aso/shared';

import { readPod } from './new-pod.ts';
import { originalLeaving } from './original-steps.ts';
import { freshRecord, updateRecord, type SwitchContext } from './switch-context.ts';

/**
 * Strategies whose switch starts only once the new pod is Ready: past that point
 * the new pod is what serves the workload. Break-before-make is not among them:
 * its way back restores the original.
 */
const FORWARD_ONLY: ReadonlySet<SwitchStrategy> = new Set([
  'make-before-break',
  'replicaset-handoff',
]);

/**
 * After the pod stage failed for good (retries spent, or its worker lost too often):
 * when the switch had begun and the new pod is Ready, rolling back would undo
 * nothing, and calling the migration "rolled back" would be false. The migration
 * goes on to be measured instead, with a warning that says what failed.
 */
export async function carryForward(
  context: SwitchContext,
  strategy: SwitchStrategy,
  error: unknown,
): Promise<StageResult | null> {
  if (!FORWARD_ONLY.has(strategy)) return null;

  const record = await freshRecord(context);
  const name = record.details.new_pod_name;
  if (!switchStarted(record) || record.details.new_pod_ready_at === null || name === null) {
    return null;
  }
  // The original must really be on its way out: an eviction a budget refused leaves
  // it serving, and then the new pod is the one to remove.
  const leaving =
    record.progress.original_removed ||
    (record.details.removal !== null && (await originalLeaving(context, record)));
  if (!leaving) return null;

  const newPod = await readPod(context.kube, record.request.pod_namespace, name);
  const ready = newPod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  if (!newPod || newPod.metadata?.deletionTimestamp || !ready) return null;

  const reason = error instanceof Error ? error.message : String(error);
  await updateRecord(context, (r) => {
    r.details.warnings.push(
      `the pod stage failed after the switch began (${reason}); the new pod ${name} is Ready, ` +
        'so the migration went forward instead of rolling back',
    );
  });
  return { next: { stage: 'metrics', delayMs: context.settings.stabilisationDelayMs } };
}
