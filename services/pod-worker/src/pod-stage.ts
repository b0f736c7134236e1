import type { V1Pod } from '@kubernetes/client-node';

import {
  CHECKPOINT_MOUNT_PATH,
  isNotFound,
  kubernetesError,
  NewPodNotReadyError,
  NodeNotFoundError,
  PodNotFoundError,
  sumRequests,
  type KubeClients,
  type MigrationRecord,
  type StageContext,
  type StageHandler,
} from '@aso/shared';

import {
  ensureCheckpointClaim,
  removeCheckpointClaim,
  type CheckpointSettings,
} from './checkpoint-claim.ts';
import { ANNOTATION_CREATED_BY_MIGRATION, HOSTNAME_LABEL, LABEL_MIGRATION_ID } from './labels.ts';
import { buildNewPod } from './pod-builder.ts';
import { checkpointClaimName, newPodName } from './pod-names.ts';
import { trackReadiness } from './pod-readiness.ts';
import { watchPodUntil } from './pod-watch.ts';
import { createOrAdoptPod, deletePod, readPod } from './new-pod.ts';

export interface PodStageSettings {
  checkpoint: CheckpointSettings;
  /** Wait before the metrics stage measures the new pod, in ms. */
  stabilisationDelayMs: number;
  /** Extra time granted to the original beyond its grace period to disappear, in ms. */
  removalSlackMs: number;
}

/**
 * The pod stage: checkpoint claim, new pod on the target through the scheduler,
 * wait until it is Ready, and only then remove the original. Every step first
 * looks at what already exists, so a retry or a second worker picks up where the
 * last attempt stopped.
 */
export function createPodStage(kube: KubeClients, settings: PodStageSettings): StageHandler {
  return {
    stage: 'pod',
    honoursDeadline: true,

    async run(context) {
      const request = context.record.request;
      const original = await readOriginal(kube, context.record);

      const claimName = request.preserve_pv ? await prepareClaim(kube, context, settings) : null;
      const newPod = await ensureNewPod(kube, context, original, claimName);
      const ready = await waitUntilReady(kube, context, newPod);
      await recordReady(context, ready);

      if (original) await removeOriginal(kube, context, original, settings.removalSlackMs);
      await context.store.update(context.record.migration_id, (record) => {
        record.progress.original_removed = true;
        record.details.original_removed_at ??= context.now().toISOString();
        record.message = 'new pod Ready, original removed; measuring';
      });

      return { next: { stage: 'metrics', delayMs: settings.stabilisationDelayMs } };
    },

    async rollback(context) {
      return rollbackPodStage(kube, context);
    },
  };
}

/**
 * The original as captured; null only when an earlier attempt of this migration
 * already removed it after the new pod became Ready.
 */
async function readOriginal(kube: KubeClients, record: MigrationRecord): Promise<V1Pod | null> {
  const { pod_namespace: namespace, pod_name: name } = record.request;
  const pod = await readPod(kube, namespace, name);

  if (pod && pod.metadata?.uid === record.details.source_pod_uid) return pod;
  if (record.progress.new_pod_created) return null;
  throw new PodNotFoundError(namespace, name);
}

async function prepareClaim(
  kube: KubeClients,
  context: StageContext,
  settings: PodStageSettings,
): Promise<string> {
  const { pod_namespace: namespace, pod_name: podName } = context.record.request;
  const claim = await ensureCheckpointClaim(
    kube,
    namespace,
    podName,
    context.record.migration_id,
    settings.checkpoint,
  );

  await context.store.update(context.record.migration_id, (record) => {
    record.details.pv_claim_name = claim.name;
    record.details.checkpoint_path = CHECKPOINT_MOUNT_PATH;
    record.progress.claim_created ||= claim.createdByThisMigration;
  });
  context.log.info(
    { claim: claim.name, created: claim.createdByThisMigration },
    'checkpoint claim ready',
  );
  return claim.name;
}

async function ensureNewPod(
  kube: KubeClients,
  context: StageContext,
  original: V1Pod | null,
  claimName: string | null,
): Promise<V1Pod> {
  const { record } = context;
  const namespace = record.request.pod_namespace;
  const name = newPodName(record.request.pod_name, record.migration_id);

  if (!original) {
    const existing = await readPod(kube, namespace, name);
    if (existing) return existing;
    throw new PodNotFoundError(namespace, name);
  }

  const manifest = buildNewPod(original, {
    name,
    migrationId: record.migration_id,
    keptContainers: record.details.container_states
      .filter((c) => c.should_migrate)
      .map((c) => c.name),
    targetHostname: await targetHostname(kube, record.request.target_node),
    claimName,
  });
  const pod = await createOrAdoptPod(kube, manifest, record.migration_id);

  await context.store.update(record.migration_id, (r) => {
    r.progress.new_pod_created = true;
    r.details.new_pod_name = name;
    r.details.new_pod_uid = pod.metadata?.uid ?? null;
    r.message = 'new pod created; waiting until it is Ready';
  });
  context.log.info({ newPod: name }, 'new pod created');
  return pod;
}

async function targetHostname(kube: KubeClients, node: string): Promise<string> {
  try {
    const target = await kube.core.readNode({ name: node });
    return target.metadata?.labels?.[HOSTNAME_LABEL] ?? node;
  } catch (error) {
    if (isNotFound(error)) throw new NodeNotFoundError(node);
    throw kubernetesError(error, `reading node ${node}`);
  }
}

async function waitUntilReady(
  kube: KubeClients,
  context: StageContext,
  newPod: V1Pod,
): Promise<V1Pod> {
  const name = newPod.metadata?.name ?? '';
  const readiness = trackReadiness(name);
  const timeoutSeconds = context.record.request.timeout;

  const ready = await watchPodUntil(
    kube,
    context.record.request.pod_namespace,
    name,
    readiness.judge,
    context.remainingMs(),
    () =>
      new NewPodNotReadyError(
        `new pod ${name} did not become Ready within the migration's timeout of ` +
          `${timeoutSeconds} s (${readiness.lastReason()})`,
      ),
  );

  const node = ready.spec?.nodeName;
  if (node !== context.record.request.target_node) {
    throw new NewPodNotReadyError(
      `new pod ${name} became Ready on ${node ?? 'no node'}, not on the target`,
    );
  }
  return ready;
}

async function recordReady(context: StageContext, ready: V1Pod): Promise<void> {
  await context.store.update(context.record.migration_id, (record) => {
    record.details.new_pod_node = ready.spec?.nodeName ?? null;
    record.details.new_pod_ready_at ??= context.now().toISOString();
    record.details.optimized_resources = {
      requested: sumRequests(ready.spec?.containers ?? []),
      measured: { status: 'unmeasured', reason: 'waiting for the stabilisation delay' },
    };
    record.message = 'new pod Ready; removing the original';
  });
  context.log.info({ node: ready.spec?.nodeName }, 'new pod ready');
}

/** Deletes the original gracefully and waits (bounded) until it is gone. */
async function removeOriginal(
  kube: KubeClients,
  context: StageContext,
  original: V1Pod,
  slackMs: number,
): Promise<void> {
  const namespace = original.metadata?.namespace ?? 'default';
  const name = original.metadata?.name ?? '';
  const uid = original.metadata?.uid ?? '';
  const graceMs = (original.spec?.terminationGracePeriodSeconds ?? 30) * 1000;

  await deletePod(kube, namespace, name, uid);
  context.log.info({ uid }, 'original deletion requested');

  const gone = await watchPodUntil(
    kube,
    namespace,
    name,
    (pod) => (pod?.metadata?.uid === uid ? null : { done: true }),
    graceMs + slackMs,
    () => new Error('still terminating'),
  ).catch(() => false);

  if (gone) {
    context.log.info('original removed');
    return;
  }
  await context.store.update(context.record.migration_id, (record) => {
    record.details.warnings.push(
      `the original pod was still terminating ${Math.round((graceMs + slackMs) / 1000)} s after its deletion`,
    );
  });
}

/**
 * Puts the cluster back as it was before the pod stage: the new pod and a claim
 * this migration created go; the original, never touched before the switch, stays.
 * Works from the deterministic names and ownership marks, not only from the record,
 * so it also cleans up after an attempt that died before recording its progress.
 */
async function rollbackPodStage(kube: KubeClients, context: StageContext): Promise<string[]> {
  const record = await context.store.require(context.record.migration_id);
  const { pod_namespace: namespace, pod_name: podName } = record.request;
  if (record.progress.original_removed) return ['nothing: the original was already replaced'];

  const undone: string[] = [];
  const name = newPodName(podName, record.migration_id);
  const newPod = await readPod(kube, namespace, name);
  if (newPod?.metadata?.labels?.[LABEL_MIGRATION_ID] === record.migration_id) {
    await deletePod(kube, namespace, name, newPod.metadata.uid ?? '');
    undone.push(`deleted new pod ${name}`);
  }

  if (record.request.preserve_pv && (await claimCreatedBy(kube, namespace, podName, record))) {
    await removeCheckpointClaim(kube, namespace, checkpointClaimName(podName));
    undone.push(`deleted checkpoint claim ${checkpointClaimName(podName)}`);
  }
  return undone;
}

async function claimCreatedBy(
  kube: KubeClients,
  namespace: string,
  podName: string,
  record: MigrationRecord,
): Promise<boolean> {
  try {
    const claim = await kube.core.readNamespacedPersistentVolumeClaim({
      name: checkpointClaimName(podName),
      namespace,
    });
    return claim.metadata?.annotations?.[ANNOTATION_CREATED_BY_MIGRATION] === record.migration_id;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw kubernetesError(error, 'reading the checkpoint claim');
  }
}
