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
  workloadOf,
  untilAborted,
} from '@aso/shared';

import { ensureCheckpointClaim } from './checkpoint-claim.ts';
import { HOSTNAME_LABEL } from './labels.ts';
import { announceStep, recordStep } from './migration-events.ts';
import { createOrAdoptPod, readPod } from './new-pod.ts';
import { buildNewPod } from './pod-builder.ts';
import { newPodName } from './pod-names.ts';
import { trackReadiness } from './pod-readiness.ts';
import { watchPodUntil, type Judge } from './pod-watch.ts';
import { updateRecord, type SwitchContext } from './switch-context.ts';

/** Creates or reuses the workload's checkpoint claim when the request preserves one. */
export async function prepareClaim(context: SwitchContext): Promise<string | null> {
  const { record } = context.stage;
  if (!record.request.preserve_pv) return null;

  const claim = await ensureCheckpointClaim(
    context.kube,
    record.request.pod_namespace,
    workloadOf(record),
    record.migration_id,
    context.settings.checkpoint,
  );

  await updateRecord(context, (r) => {
    r.details.pv_claim_name = claim.name;
    r.details.checkpoint_path = CHECKPOINT_MOUNT_PATH;
    r.progress.claim_created ||= claim.createdByThisMigration;
  });
  context.stage.log.info(
    { claim: claim.name, created: claim.createdByThisMigration },
    'checkpoint claim ready',
  );
  return claim.name;
}

export interface NewPodSource {
  /**
   * The pod to copy: the live original, or its captured manifest once it is gone.
   * Null when the new pod must exist already (an earlier attempt created it).
   */
  source: V1Pod | null;
  /** The live original, told about the new pod; null once it is gone. */
  original: V1Pod | null;
  claimName: string | null;
  /** Changes the manifest before it is created (the ReplicaSet hand-off hides labels). */
  shape?: (manifest: V1Pod) => V1Pod;
}

/** Creates the new pod on the target, or picks up the one an earlier attempt created. */
export async function ensureNewPod(context: SwitchContext, from: NewPodSource): Promise<V1Pod> {
  const { record } = context.stage;
  const namespace = record.request.pod_namespace;
  const name = newPodName(workloadOf(record), record.migration_id);

  if (!from.source) {
    const existing = await readPod(context.kube, namespace, name);
    if (existing) return existing;
    throw new PodNotFoundError(namespace, name);
  }

  const built = buildNewPod(from.source, {
    name,
    migrationId: record.migration_id,
    keptContainers: record.details.container_states
      .filter((c) => c.should_migrate)
      .map((c) => c.name),
    targetHostname: await nodeHostname(context.kube, record.request.target_node),
    claimName: from.claimName,
    workload: workloadOf(record),
  });
  const manifest = from.shape ? from.shape(built) : built;
  const { pod, created } = await createOrAdoptPod(context.kube, manifest, record.migration_id);

  await updateRecord(context, (r) => {
    r.progress.new_pod_created = true;
    r.details.new_pod_name = name;
    r.details.new_pod_uid = pod.metadata?.uid ?? null;
    r.message = 'new pod created; waiting until it is Ready';
  });
  if (created) await announceNewPod(context, pod, from.original);
  context.stage.log.info({ newPod: name, created }, 'new pod created');
  return pod;
}

async function announceNewPod(
  context: SwitchContext,
  pod: V1Pod,
  original: V1Pod | null,
): Promise<void> {
  const {
    pod_name: podName,
    source_node: source,
    target_node: target,
  } = context.stage.record.request;
  const name = pod.metadata?.name ?? '';

  await recordStep(
    context,
    [pod],
    'NewPodCreated',
    `created for ${target} to replace ${podName} from ${source}`,
  );
  await recordStep(context, [original], 'NewPodCreated', `created ${name} for ${target}`);
  await announceStep(context, {
    type: 'new-pod-created',
    message: `new pod ${name} created for ${target}`,
    pod: { name, node: target },
  });
}

/** Value of the node's kubernetes.io/hostname label, its name when it has none. */
export async function nodeHostname(kube: KubeClients, node: string): Promise<string> {
  try {
    const found = await kube.core.readNode({ name: node });
    return found.metadata?.labels?.[HOSTNAME_LABEL] ?? node;
  } catch (error) {
    if (isNotFound(error)) throw new NodeNotFoundError(node);
    throw kubernetesError(error, `reading node ${node}`);
  }
}

/** Waits, until the migration's deadline, for the new pod to be Ready on the target. */
export async function waitUntilReady(context: SwitchContext, newPod: V1Pod): Promise<V1Pod> {
  const { request } = context.stage.record;
  const name = newPod.metadata?.name ?? '';
  const readiness = trackReadiness(name);

  // An operator's cancel ends the wait at once; the judge lets the watch end too.
  const { signal } = context.stage;
  const judge: Judge<V1Pod> = (pod) =>
    signal.aborted ? { fail: signal.reason as Error } : readiness.judge(pod);
  const ready = await untilAborted(
    signal,
    watchPodUntil(
      context.kube,
      request.pod_namespace,
      name,
      judge,
      context.stage.remainingMs(),
      () =>
        new NewPodNotReadyError(
          `new pod ${name} did not become Ready within the migration's timeout of ` +
            `${request.timeout} s (${readiness.lastReason()})`,
        ),
    ),
  );

  const node = ready.spec?.nodeName;
  if (node !== request.target_node) {
    throw new NewPodNotReadyError(
      `new pod ${name} became Ready on ${node ?? 'no node'}, not on the target`,
    );
  }
  return ready;
}

/** Records the new pod's readiness (the first time only) and tells both pods. */
/**
 * When the pod became Ready, as its Ready condition says: a worker that restarted
 * notices readiness late, and downtime must not include its own outage.
 */
function readySince(pod: V1Pod): string | null {
  const since = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  if (since === undefined) return null;
  return new Date(since).toISOString();
}

export async function recordReady(
  context: SwitchContext,
  ready: V1Pod,
  original: V1Pod | null,
): Promise<void> {
  const seen = { first: false };
  await updateRecord(context, (record) => {
    seen.first = record.details.new_pod_ready_at === null;
    record.details.new_pod_node = ready.spec?.nodeName ?? null;
    record.details.new_pod_ready_at ??= readySince(ready) ?? context.stage.now().toISOString();
    record.details.optimized_resources = {
      requested: sumRequests(ready.spec?.containers ?? []),
      measured: { status: 'unmeasured', reason: 'waiting for the stabilisation delay' },
    };
    record.message = 'new pod Ready';
  });
  context.stage.log.info({ node: ready.spec?.nodeName }, 'new pod ready');
  if (!seen.first) return;

  const node = ready.spec?.nodeName ?? '';
  const name = ready.metadata?.name ?? '';
  await announceStep(context, {
    type: 'pod-ready',
    message: `new pod ${name} is Ready on ${node}`,
    pod: { name, node },
  });
  await recordStep(context, [ready], 'NewPodReady', `Ready on ${node}`);
  await recordStep(
    context,
    [original],
    'NewPodReady',
    `its replacement ${ready.metadata?.name ?? ''} is Ready on ${node}`,
  );
}
