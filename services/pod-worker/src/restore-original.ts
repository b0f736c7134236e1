import type { V1Pod } from '@kubernetes/client-node';

import { isConflict, kubernetesError, type MigrationRecord } from '@aso/shared';

import { ANNOTATION_RECREATED_BY_MIGRATION } from './labels.ts';
import { announceStep, recordStep } from './migration-events.ts';
import { readPod } from './new-pod.ts';
import { nodeHostname } from './new-pod-steps.ts';
import { asOriginal, switchBegun, waitUntilGone } from './original-steps.ts';
import { trackReadiness } from './pod-readiness.ts';
import { watchPodUntil } from './pod-watch.ts';
import { buildRecreatedOriginal } from './recreated-original.ts';
import { removeNewPod } from './rollback-steps.ts';
import {
  DEFAULT_ROLLBACK_TIMEOUT_MS,
  freshRecord,
  removalWaitMs,
  updateRecord,
  type SwitchContext,
} from './switch-context.ts';

/**
 * Undoes a break-before-make switch: removes the new pod and waits until it is gone
 * (so it releases the claims), then creates the original again on the source node
 * from its captured manifest and waits until it is Ready. Each step looks first at
 * what exists, so a rollback cut short by a crash resumes without a second copy:
 * the re-created original carries this migration's id and is adopted, not created
 * again. Returns what it did; nothing when the original was never removed.
 */
export async function restoreOriginal(context: SwitchContext): Promise<string[]> {
  const record = await freshRecord(context);
  const undone = await removeNewPod(context, record, { wait: true });

  const { pod_namespace: namespace, pod_name: name } = record.request;
  const live = await readPod(context.kube, namespace, name);
  const original = asOriginal(record, live);
  const untouched = original !== null && !original.metadata?.deletionTimestamp;
  if (untouched || !switchBegun(record)) return undone;

  const recreated = await ensureRecreated(context, record, live);
  const ready = await waitRecreatedReady(context, recreated);
  await recordRecreated(context, ready);
  return [...undone, `re-created the original ${name} on ${record.request.source_node}`];
}

async function ensureRecreated(
  context: SwitchContext,
  record: MigrationRecord,
  live: V1Pod | null,
): Promise<V1Pod> {
  if (live && recreatedBy(record, live)) return live;
  const original = asOriginal(record, live);
  if (original) {
    // Still terminating: its name is taken and its claims are held until it is gone.
    const gone = await waitUntilGone(context, original, removalWaitMs(context, original));
    if (!gone) throw new Error(`the original ${record.request.pod_name} is still terminating`);
  } else if (live) {
    throw new Error(
      `a pod named ${record.request.pod_name} exists that this migration did not create; ` +
        'the original was not re-created',
    );
  }
  return createRecreated(context, record);
}

function recreatedBy(record: MigrationRecord, pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[ANNOTATION_RECREATED_BY_MIGRATION] === record.migration_id;
}

async function createRecreated(context: SwitchContext, record: MigrationRecord): Promise<V1Pod> {
  const manifest = record.details.original_manifest;
  if (!manifest) throw new Error('the migration has no manifest of the original to re-create');

  const { pod_namespace: namespace, pod_name: name, source_node: source } = record.request;
  const body = buildRecreatedOriginal(manifest, {
    migrationId: record.migration_id,
    sourceHostname: await nodeHostname(context.kube, source),
  });
  try {
    const created = await context.kube.core.createNamespacedPod({ namespace, body });
    context.stage.log.info({ node: source }, 'original re-created');
    return created;
  } catch (error) {
    if (!isConflict(error)) throw kubernetesError(error, `re-creating pod ${namespace}/${name}`);
  }

  // A concurrent rollback created it between our read and our create.
  const raced = await readPod(context.kube, namespace, name);
  if (raced && recreatedBy(record, raced)) return raced;
  throw new Error(`pod ${namespace}/${name} was taken while the original was re-created`);
}

async function waitRecreatedReady(context: SwitchContext, pod: V1Pod): Promise<V1Pod> {
  const name = pod.metadata?.name ?? '';
  const readiness = trackReadiness(name, 're-created original');
  const timeoutMs = context.settings.rollbackTimeoutMs ?? DEFAULT_ROLLBACK_TIMEOUT_MS;

  const ready = await watchPodUntil(
    context.kube,
    pod.metadata?.namespace ?? 'default',
    name,
    readiness.judge,
    timeoutMs,
    () =>
      new Error(
        `the re-created original ${name} was not Ready within ${timeoutMs / 1000} s ` +
          `(${readiness.lastReason()})`,
      ),
  );
  return ready;
}

async function recordRecreated(context: SwitchContext, ready: V1Pod): Promise<void> {
  const seen = { first: false };
  const record = await updateRecord(context, (r) => {
    seen.first = r.details.original_recreated_at === null;
    r.progress.original_recreated = true;
    r.details.original_recreated_at ??= context.stage.now().toISOString();
  });
  if (!seen.first) return;

  const { source_node: source, target_node: target } = record.request;
  const name = ready.metadata?.name ?? record.request.pod_name;
  await announceStep(context, {
    type: 'original-restored',
    message: `original ${name} re-created on ${source} and Ready after the switch to ${target} failed`,
    pod: { name, node: source },
  });
  await recordStep(
    context,
    [ready],
    'OriginalRecreated',
    `re-created on ${source} and Ready after the switch to ${target} failed`,
  );
}
