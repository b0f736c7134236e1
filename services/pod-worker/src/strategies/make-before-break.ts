import type { V1Pod } from '@kubernetes/client-node';

import { ensureNewPod, prepareClaim, recordReady, waitUntilReady } from '../new-pod-steps.ts';
import {
  markOriginalGone,
  originalLeaving,
  readOriginal,
  removeOriginal,
  waitUntilGone,
} from '../original-steps.ts';
import { removeCreatedClaim, removeNewPod, tellOriginalKept } from '../rollback-steps.ts';
import {
  freshRecord,
  removalWaitMs,
  updateRecord,
  type SwitchContext,
  type SwitchStrategyHandler,
} from '../switch-context.ts';

/**
 * make-before-break: the new pod starts on the target and becomes Ready while the
 * original still serves; only then is the original evicted. Used when the pod has
 * no claim, or only claims several nodes can mount (ReadWriteMany, ReadOnlyMany).
 */
export const makeBeforeBreak: SwitchStrategyHandler = {
  async run(context) {
    const original = await readOriginal(context);
    const claimName = await prepareClaim(context);
    const newPod = await ensureNewPod(context, { source: original, original, claimName });
    const ready = await waitUntilReady(context, newPod);
    await recordReady(context, ready, original);

    if (original) {
      await removeOriginal(context, original, ready);
      await awaitOriginalGone(context, original);
    }
    await markOriginalGone(
      context,
      [original, ready],
      'new pod Ready, original removed; measuring',
    );
    await updateRecord(context, (record) => {
      record.details.downtime_ms = 0;
    });
  },

  async rollback(context) {
    const record = await freshRecord(context);
    if (record.progress.original_removed) return ['nothing: the original was already replaced'];
    // Once the original is on its way out, the new pod is all the workload has left.
    if (record.details.removal !== null && (await originalLeaving(context, record))) {
      return ['nothing: the original was already being removed'];
    }

    const undone = [
      ...(await removeNewPod(context, record, { wait: false })),
      ...(await removeCreatedClaim(context, record)),
    ];
    if (undone.length > 0) await tellOriginalKept(context, record);
    return undone;
  },
};

/** A slow original is only a warning: the new pod already serves. */
async function awaitOriginalGone(context: SwitchContext, original: V1Pod): Promise<void> {
  const waitMs = removalWaitMs(context, original);
  if (await waitUntilGone(context, original, waitMs)) return;

  await updateRecord(context, (record) => {
    record.details.warnings.push(
      `the original pod was still terminating ${Math.round(waitMs / 1000)} s after its removal`,
    );
  });
}
