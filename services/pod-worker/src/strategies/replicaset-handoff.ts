import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';

import { workloadOf } from '@aso/shared';

import { ANNOTATION_HANDOFF_LABELS } from '../labels.ts';
import { outsideSelector } from '../handoff-labels.ts';
import { recordStep } from '../migration-events.ts';
import { readPod } from '../new-pod.ts';
import { ensureNewPod, prepareClaim, recordReady, waitUntilReady } from '../new-pod-steps.ts';
import {
  markOriginalGone,
  originalLeaving,
  readOriginal,
  waitUntilGone,
} from '../original-steps.ts';
import { newPodName } from '../pod-names.ts';
import { awaitReplicaSetChoice, otherReplicas } from '../replicaset-choice.ts';
import {
  joinReplicaSet,
  lowerDeletionCost,
  readReplicaSet,
  restoreDeletionCost,
} from '../replicaset-steps.ts';
import { removeCreatedClaim, removeNewPod, tellOriginalKept } from '../rollback-steps.ts';
import {
  beginSwitch,
  freshRecord,
  removalWaitMs,
  updateRecord,
  type SwitchContext,
  type SwitchStrategyHandler,
} from '../switch-context.ts';

/**
 * replicaset-handoff: the new pod starts outside the ReplicaSet's selector and
 * becomes Ready on the target; the original gets the lowest pod-deletion-cost; then
 * the new pod gets the selector's labels back, the ReplicaSet adopts it as an orphan
 * it matches, finds one pod too many and removes the cheapest: the original. The
 * ReplicaSet itself does the removal, so it never starts a replacement of its own.
 * https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#scaling-a-replicaset
 */
export const replicaSetHandoff: SwitchStrategyHandler = {
  async run(context) {
    const original = await readOriginal(context);
    const replicaSet = await readReplicaSet(context, original);
    const claimName = await prepareClaim(context);
    const selector = replicaSet.spec?.selector ?? {};

    const shape = (manifest: V1Pod) => outsideSelector(manifest, selector);
    const newPod = await ensureNewPod(context, { source: original, original, claimName, shape });
    const ready = await waitUntilReady(context, newPod);
    await recordReady(context, ready, original);

    if (original && !original.metadata?.deletionTimestamp) {
      await lowerDeletionCost(context, original, replicaSet);
    }
    const others = original ? await otherReplicas(context, replicaSet, [original, ready]) : [];
    await beginSwitch(context, (record) => {
      record.message = 'handing the new pod to the ReplicaSet';
    });
    const joined = await joinReplicaSet(context, ready, replicaSet);
    const removed = original
      ? await awaitReplicaSetChoice(context, replicaSet, { original, joined, others })
      : null;

    if (original && removed !== null) await keepOriginal(context, original, joined, removed);
    else await finishHandoff(context, original, joined, replicaSet);
  },

  async rollback(context) {
    const record = await freshRecord(context);
    if (record.progress.original_removed) return ['nothing: the original was already replaced'];

    const newPod = await readPod(
      context.kube,
      record.request.pod_namespace,
      newPodName(workloadOf(record), record.migration_id),
    );
    const joined = newPod !== null && !newPod.metadata?.annotations?.[ANNOTATION_HANDOFF_LABELS];
    if (joined && (await originalLeaving(context, record))) {
      return ['nothing: the ReplicaSet already removed the original'];
    }

    // The cost first: should the ReplicaSet scale down before the new pod goes, it
    // then ranks the original like any other replica.
    const undone = [
      ...(await restoreDeletionCost(context, record)),
      ...(await removeNewPod(context, record, { wait: false })),
      ...(await removeCreatedClaim(context, record)),
    ];
    if (undone.length > 0) await tellOriginalKept(context, record);
    return undone;
  },
};

async function finishHandoff(
  context: SwitchContext,
  original: V1Pod | null,
  joined: V1Pod,
  replicaSet: V1ReplicaSet,
): Promise<void> {
  await updateRecord(context, (record) => {
    record.details.removal = 'replicaset';
    record.details.downtime_ms = 0;
  });
  if (original) {
    const waitMs = removalWaitMs(context, original);
    if (!(await waitUntilGone(context, original, waitMs))) {
      await updateRecord(context, (record) => {
        const seconds = Math.round(waitMs / 1000);
        record.details.warnings.push(
          `the original pod was still terminating ${seconds} s after its ReplicaSet removed it`,
        );
      });
    }
  }
  const rsName = replicaSet.metadata?.name ?? '';
  await markOriginalGone(
    context,
    [original, joined],
    `new pod adopted by ReplicaSet ${rsName}, which removed the original; measuring`,
  );
}

/** The ReplicaSet removed another replica: the original stays, with its cost back. */
async function keepOriginal(
  context: SwitchContext,
  original: V1Pod,
  joined: V1Pod,
  removed: string,
): Promise<void> {
  const record = await freshRecord(context);
  await restoreDeletionCost(context, record);

  const { pod_name: name, source_node: source } = record.request;
  const warning =
    `the ReplicaSet removed its pod ${removed} instead of the original ${name}, which keeps ` +
    `running on ${source}; the new pod ${joined.metadata?.name ?? ''} is one of its replicas`;
  await updateRecord(context, (r) => {
    r.details.warnings.push(warning);
    r.details.downtime_ms = 0;
    r.message = 'new pod adopted, but the ReplicaSet removed another replica; measuring';
  });
  await recordStep(context, [original, joined], 'ReplicaSetRemovedOther', warning, 'Warning');
  context.stage.log.warn({ removed }, 'the ReplicaSet removed another pod than the original');
}
