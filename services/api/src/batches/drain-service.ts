import type { V1Pod } from '@kubernetes/client-node';

import {
  checkTargetNode,
  fromStore,
  NodeNotFoundError,
  TargetTaintNotToleratedError,
  ValidationError,
} from '@aso/shared';

import {
  DrainInProgressError,
  DrainNodeNotFoundError,
  DrainNothingStartedError,
} from './batch-errors.ts';
import { startMembers } from './batch-members.ts';
import { ANY_NODE, type DrainRequest } from './batch-request.ts';
import { cancelBatch, newBatch, type BatchDeps, type MemberCancel } from './batch-service.ts';
import { drainIdOf, isSettingUp, type BatchRecord, type LeftPod } from './batch-store.ts';
import { batchView, type BatchView } from './batch-view.ts';

/** The annotation the kubelet puts on the API server's mirror of a static pod. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * Drains a node: cordons it first (so that nothing new lands on it while it
 * empties), then moves every pod it can as the members of a batch and reports the
 * pods it leaves and why. Members evict their originals through the Eviction API
 * (unless `force`), so PodDisruptionBudgets hold: a refused eviction is retried
 * until the member's deadline, then rolled back, never turned into a delete.
 * See https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/
 */
export async function createDrain(deps: BatchDeps, request: DrainRequest): Promise<BatchView> {
  const node = await deps.cluster.readNode(request.node);
  if (node === null) throw new DrainNodeNotFoundError(request.node);
  // Refused before the cordon: a target no pod could move to makes the drain pointless.
  await checkDrainTarget(deps, request);

  const drain = newBatch(deps, 'drain', request, { node: request.node });
  limitToNodeCap(deps, drain, request.node);
  const wasCordoned = node.spec?.unschedulable === true;
  drain.drain = {
    node: request.node,
    was_cordoned: wasCordoned,
    cordoned_at: null,
    uncordoned_at: null,
    left: [],
    not_moved: 0,
  };
  await takeNode(deps, drain);

  try {
    await fromStore(() => deps.batches.save(drain));
    if (!wasCordoned) {
      await deps.cluster.setUnschedulable(request.node, true);
      drain.drain.cordoned_at = new Date().toISOString();
    }

    const pods = await deps.cluster.listPodsOnNode(request.node);
    const { movable, left } = sortPods(pods, deps.allowedNamespaces);
    drain.drain.left = left;
    const members = await startMembers(
      deps,
      drain,
      movable.map((pod) => ({ pod })),
    );

    // Pods the pre-flight refuses stay where they are: they are reported as left, and
    // counted, since a drain that leaves a movable pod behind has not emptied the node.
    drain.members = members.filter((member) => member.refused === null);
    const refused = members.filter((member) => member.refused !== null);
    drain.drain.not_moved = refused.length;
    drain.drain.left.push(
      ...refused.map((m) => ({
        pod: m.pod,
        code: m.refused?.code ?? 'refused',
        reason: m.refused?.detail ?? '',
      })),
    );
    if (drain.members.length === 0 && refused.length > 0) {
      throw new DrainNothingStartedError(request.node, refused);
    }
  } catch (error) {
    // Nothing started is left behind: the cordon this drain made is undone.
    await undoCordon(deps, drain).catch(() => undefined);
    await deps.batches.unlockNode(request.node, drain.batch_id).catch(() => undefined);
    if (error instanceof DrainNothingStartedError)
      await fromStore(() => deps.batches.remove(drain));
    throw error;
  }

  drain.updated_at = new Date().toISOString();
  await fromStore(() => deps.batches.save(drain));
  await fromStore(() => deps.batches.holdNode(drain));
  return batchView(deps.store, drain);
}

/**
 * Cancels the members not yet switched and uncordons the node if this drain
 * cordoned it (a node cordoned before the drain stays cordoned).
 */
export async function cancelDrain(
  deps: BatchDeps,
  drain: BatchRecord,
): Promise<{ view: BatchView; cancels: MemberCancel[]; uncordoned: boolean }> {
  const { cancels } = await cancelBatch(deps, drain);
  const uncordoned = await undoCordon(deps, drain);
  drain.updated_at = new Date().toISOString();
  await fromStore(() => deps.batches.save(drain));
  if (drain.drain) await deps.batches.unlockNode(drain.drain.node, drain.batch_id);

  return { view: await batchView(deps.store, drain), cancels, uncordoned };
}

/** One drain per node at a time; a drain that has ended hands its node over. */
async function takeNode(deps: BatchDeps, drain: BatchRecord): Promise<void> {
  const node = drain.drain?.node ?? '';
  const holder = await fromStore(() => deps.batches.lockNode(node, drain.batch_id));
  if (holder === null) return;

  // A drain still being set up may have no record yet, or one without members that
  // reads as ended: taking its node over would run two drains at once.
  if (isSettingUp(holder)) throw new DrainInProgressError(node, drainIdOf(holder));
  const earlier = await fromStore(() => deps.batches.get(holder));
  const view = earlier === null ? null : await fromStore(() => batchView(deps.store, earlier));
  if (view?.status === 'running') throw new DrainInProgressError(node, holder);
  if (!(await fromStore(() => deps.batches.takeOverNode(node, holder, drain.batch_id)))) {
    throw new DrainInProgressError(node, holder);
  }
}

/**
 * Every member of a drain leaves the same node, so the workers' per-node cap bounds
 * how many run at once: the drain records that figure, not a larger one it asked
 * for, and says so.
 */
function limitToNodeCap(deps: BatchDeps, drain: BatchRecord, node: string): void {
  const cap = deps.maxInFlightPerNode;
  if (cap === undefined || drain.max_in_flight <= cap) return;

  drain.warnings = [
    `max_in_flight ${drain.max_in_flight} exceeds the per-node cap ` +
      `(ASO_MAX_IN_FLIGHT_PER_NODE=${cap}): every member leaves ${node}, ` +
      `so at most ${cap} run at once; max_in_flight is ${cap}`,
  ];
  drain.max_in_flight = cap;
}

/**
 * A named target must be one a single migration could use: another node, existing,
 * Ready and not cordoned. Taints are left to each member, which may tolerate them.
 */
async function checkDrainTarget(deps: BatchDeps, request: DrainRequest): Promise<void> {
  if (request.target_node === ANY_NODE) return;
  if (request.target_node === request.node) {
    const message = `target_node must differ from the node drained: ${request.node} is emptied`;
    throw new ValidationError(message, [{ field: 'target_node', message }]);
  }

  const target = await deps.cluster.readNode(request.target_node);
  if (target === null) throw new NodeNotFoundError(request.target_node);
  try {
    checkTargetNode(target, {});
  } catch (error) {
    if (!(error instanceof TargetTaintNotToleratedError)) throw error;
  }
}

async function undoCordon(deps: BatchDeps, drain: BatchRecord): Promise<boolean> {
  const details = drain.drain;
  if (details === null || details.cordoned_at === null || details.uncordoned_at !== null) {
    return false;
  }
  await deps.cluster.setUnschedulable(details.node, false);
  details.uncordoned_at = new Date().toISOString();
  return true;
}

/**
 * The pods a drain moves, and those it leaves with the reason: what a node agent
 * or a DaemonSet runs there by design, and what is already on its way out.
 */
function sortPods(
  pods: V1Pod[],
  allowedNamespaces: ReadonlySet<string> | undefined,
): { movable: V1Pod[]; left: LeftPod[] } {
  const movable: V1Pod[] = [];
  const left: LeftPod[] = [];

  for (const pod of pods) {
    const reason = reasonToLeave(pod, allowedNamespaces);
    if (reason === null) movable.push(pod);
    else left.push({ pod: nameOf(pod), ...reason });
  }
  return { movable, left };
}

function reasonToLeave(
  pod: V1Pod,
  allowedNamespaces: ReadonlySet<string> | undefined,
): { code: string; reason: string } | null {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller);
  if (owner?.kind === 'DaemonSet') {
    return {
      code: 'daemonset',
      reason: `managed by DaemonSet ${owner.name}, which runs one pod on every node by design`,
    };
  }
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) {
    return {
      code: 'mirror-pod',
      reason: "a static pod of the node's kubelet; only the kubelet's manifest can move it",
    };
  }
  if (pod.metadata?.deletionTimestamp) {
    return { code: 'pod-terminating', reason: 'already terminating; it leaves the node by itself' };
  }
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    return { code: 'pod-finished', reason: `finished (${phase}); nothing runs to move` };
  }
  const namespace = pod.metadata?.namespace ?? 'default';
  if (allowedNamespaces !== undefined && !allowedNamespaces.has(namespace)) {
    return {
      code: 'namespace-not-allowed',
      reason: `namespace ${namespace} is outside this installation's ASO_ALLOWED_NAMESPACES`,
    };
  }
  return null;
}

function nameOf(pod: V1Pod): { namespace: string; name: string } {
  return { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
}
