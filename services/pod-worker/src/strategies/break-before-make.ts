import type { V1Pod } from '@kubernetes/client-node';

import { isPermanent, type MigrationRecord } from '@aso/shared';

import { OriginalNotRemovedError, OriginalRestoredError } from '../errors.ts';
import { ensureNewPod, prepareClaim, recordReady, waitUntilReady } from '../new-pod-steps.ts';
import {
  markOriginalGone,
  readOriginal,
  removeOriginal,
  waitUntilGone,
} from '../original-steps.ts';
import { restoreOriginal } from '../restore-original.ts';
import { removeCreatedClaim } from '../rollback-steps.ts';
import {
  freshRecord,
  removalWaitMs,
  updateRecord,
  type SwitchContext,
  type SwitchStrategyHandler,
} from '../switch-context.ts';

/**
 * break-before-make: a claim only one node (or pod) can mount at a time, a
 * ReadWriteOnce or ReadWriteOncePod claim in use, must be released before the new
 * pod can mount it. So the original goes first, and the new pod is created on the
 * target once it is gone. Should the new pod fail, the original is created again on
 * the source node. The workload is down from the original's removal until the new
 * pod is Ready: details.downtime_ms.
 */
export const breakBeforeMake: SwitchStrategyHandler = {
  async run(context) {
    const original = await readOriginal(context);
    // A claim conflict is found before the workload goes down.
    const claimName = await prepareClaim(context);

    if (original) await removeAndAwait(context, original);
    const record = await markOriginalGone(
      context,
      [original],
      'original removed; starting the new pod on the target',
    );

    try {
      await startNewPod(context, record, claimName);
    } catch (error) {
      throw await restoreAfter(context, error);
    }
  },

  async rollback(context) {
    const undone = await restoreOriginal(context);
    return [...undone, ...(await removeCreatedClaim(context, await freshRecord(context)))];
  },
};

async function removeAndAwait(context: SwitchContext, original: V1Pod): Promise<void> {
  await removeOriginal(context, original, null);

  const waitMs = removalWaitMs(context, original);
  if (!(await waitUntilGone(context, original, waitMs))) {
    throw new OriginalNotRemovedError(
      `the original ${original.metadata?.name ?? ''} was still terminating ` +
        `${Math.round(waitMs / 1000)} s after its removal, so its claims were not released`,
    );
  }
}

/**
 * Creates the new pod from the captured manifest (the original is gone) with the same
 * claims, waits until it is Ready, and records the downtime.
 */
async function startNewPod(
  context: SwitchContext,
  record: MigrationRecord,
  claimName: string | null,
): Promise<void> {
  // Once created, the new pod is only ever picked up: one that a rollback removed
  // must not come back.
  const source = record.progress.new_pod_created ? null : record.details.original_manifest;
  const newPod = await ensureNewPod(context, { source, original: null, claimName });
  const ready = await waitUntilReady(context, newPod);
  await recordReady(context, ready, null);

  await updateRecord(context, (r) => {
    const readyAt = Date.parse(r.details.new_pod_ready_at ?? '');
    const goneAt = Date.parse(r.details.original_removed_at ?? '');
    r.details.downtime_ms = Math.max(0, readyAt - goneAt);
    r.message = 'new pod Ready after the original was removed; measuring';
  });
}

/**
 * A failure for good after the original has gone leaves the workload without a pod:
 * the original is created again on the source before the migration fails, and the
 * error says so. A transient failure is left to the retry; if the retries run out,
 * the stage's rollback restores the original the same way.
 */
async function restoreAfter(context: SwitchContext, error: unknown): Promise<unknown> {
  if (!isPermanent(error)) return error;

  try {
    const undone = await restoreOriginal(context);
    context.stage.log.warn({ err: error, undone }, 'switch failed, original restored');
    if (!(await freshRecord(context)).progress.original_recreated) return error;

    const source = context.stage.record.request.source_node;
    return new OriginalRestoredError(
      error,
      `the original was re-created on ${source} and is Ready`,
    );
  } catch (restoreError) {
    context.stage.log.error({ err: restoreError }, 'restoring the original failed');
    return error;
  }
}
