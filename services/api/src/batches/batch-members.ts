import { randomUUID } from 'node:crypto';

import type { V1Node, V1Pod } from '@kubernetes/client-node';

import {
  checkController,
  chooseTargetNode,
  describeRejections,
  enqueueMigration,
  newMigrationRecord,
  OrchestratorError,
  planSubmission,
  podsByNodeName,
  UnsupportedControllerError,
  withPlacement,
  type Logger,
  type MigrationMetrics,
  type MigrationRequest,
  type SubmissionDeps,
} from '@aso/shared';

import { ANY_NODE } from './batch-request.ts';
import type { BatchMember, BatchRecord, PodName, Refusal } from './batch-store.ts';
import type { ClusterView } from './cluster-view.ts';

export interface MemberDeps extends SubmissionDeps {
  cluster: ClusterView;
  metrics: MigrationMetrics;
  log: Logger;
}

/** A pod to move: read from the cluster, or only named when it could not be found. */
export type Candidate = { pod: V1Pod } | { missing: PodName };

/**
 * Starts one migration per candidate, each through the same pre-flight, pod lock
 * and queue as a single migration, tagged with the batch and its cap so that the
 * capture stage's admission holds members over the cap. Members are planned one
 * after another, so that each choice of "any node" sees the room the earlier ones
 * took. A member that cannot start is refused with the pre-flight's code; the
 * others go ahead.
 */
export async function startMembers(
  deps: MemberDeps,
  batch: BatchRecord,
  candidates: Candidate[],
): Promise<BatchMember[]> {
  const placement = batch.target_node === ANY_NODE ? await readPlacementView(deps, batch) : null;
  let podsByNode = placement?.podsByNode ?? new Map<string, V1Pod[]>();
  const members: BatchMember[] = [];

  for (const candidate of candidates) {
    if ('missing' in candidate) {
      members.push(refusedMember(candidate.missing, null, null, notFound(candidate.missing)));
      continue;
    }

    const { pod } = candidate;
    const target = chooseTarget(batch, pod, placement?.nodes ?? [], podsByNode);
    const member = await startMember(deps, batch, pod, target);
    if (member.migration_id !== null && target.node !== null && placement !== null) {
      podsByNode = withPlacement(podsByNode, target.node, pod);
    }
    members.push(member);
  }
  return members;
}

interface PlacementView {
  nodes: V1Node[];
  podsByNode: Map<string, V1Pod[]>;
}

async function readPlacementView(deps: MemberDeps, batch: BatchRecord): Promise<PlacementView> {
  const [nodes, pods] = await Promise.all([deps.cluster.listNodes(), deps.cluster.listAllPods()]);
  // A drained node is cordoned by now; it is excluded by name as well, for a cordon
  // that has not reached the node's record yet.
  const drained = batch.drain?.node;
  return {
    nodes: drained === undefined ? nodes : nodes.filter((n) => n.metadata?.name !== drained),
    podsByNode: podsByNodeName(pods),
  };
}

type Target = { node: string; refusal: null } | { node: null; refusal: Refusal };

function chooseTarget(
  batch: BatchRecord,
  pod: V1Pod,
  nodes: V1Node[],
  podsByNode: Map<string, V1Pod[]>,
): Target {
  const source = pod.spec?.nodeName;
  if (!source) {
    return refusal('pod-not-scheduled', 'the pod is not scheduled on any node yet');
  }
  if (batch.target_node !== ANY_NODE) {
    if (batch.target_node === source) {
      return refusal('already-on-target', `the pod already runs on ${source}`);
    }
    return { node: batch.target_node, refusal: null };
  }

  // What refuses the pod wherever it goes is said first, without naming a node
  // that the choice below would have picked only to be refused.
  const anywhere = refusedAnywhere(pod, source);
  if (anywhere !== null) return { node: null, refusal: anywhere };

  const choice = chooseTargetNode({ pod, nodes, podsByNode });
  if (choice.node === null) {
    return refusal(
      'no-target-node-fits',
      `no node fits the pod: ${describeRejections(choice.rejected)}`,
    );
  }
  return { node: choice.node, refusal: null };
}

/**
 * The pre-flight's refusals that do not depend on the target: a controller that
 * cannot be worked around, and a hostPath volume, whose data stays on the source.
 */
function refusedAnywhere(pod: V1Pod, source: string): Refusal | null {
  try {
    checkController(pod);
  } catch (error) {
    if (error instanceof UnsupportedControllerError)
      return { code: error.code, detail: error.message };
    throw error;
  }

  const hostPath = (pod.spec?.volumes ?? []).find((volume) => volume.hostPath);
  if (hostPath === undefined) return null;
  const ref = `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
  return {
    code: 'volume-cannot-follow',
    detail:
      `volume ${hostPath.name} of pod ${ref} cannot follow it to any other node: it is the ` +
      `hostPath ${hostPath.hostPath?.path ?? ''} on ${source}'s own disk; move the data to ` +
      'storage every node can reach',
  };
}

async function startMember(
  deps: MemberDeps,
  batch: BatchRecord,
  pod: V1Pod,
  target: Target,
): Promise<BatchMember> {
  const name = { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
  const source = pod.spec?.nodeName ?? null;
  if (target.node === null) return refusedMember(name, source, null, target.refusal);

  const request: MigrationRequest = {
    pod_name: name.name,
    pod_namespace: name.namespace,
    source_node: source ?? '',
    target_node: target.node,
    dry_run: false,
    ...batch.options,
  };
  try {
    await planSubmission(deps, request);
    const record = {
      ...newMigrationRecord((deps.newId ?? randomUUID)(), request, (deps.now ?? now)()),
      batch: { batch_id: batch.batch_id, max_in_flight: batch.max_in_flight },
    };
    await enqueueMigration(deps, record);
    deps.metrics.countStarted();
    return {
      pod: name,
      source_node: source,
      target_node: target.node,
      migration_id: record.migration_id,
      refused: null,
    };
  } catch (error) {
    return refusedMember(name, source, target.node, refusalOf(error, deps.log));
  }
}

/** The pre-flight's or the store's refusal; anything unexpected is logged and named as such. */
function refusalOf(error: unknown, log: Logger): Refusal {
  // The message names the migration holding the pod, when one does.
  if (error instanceof OrchestratorError) return { code: error.code, detail: error.message };

  log.error({ err: error }, 'batch member failed unexpectedly');
  return { code: 'internal-error', detail: 'an unexpected error occurred; see the server log' };
}

function refusedMember(
  pod: PodName,
  source: string | null,
  target: string | null,
  refused: Refusal,
): BatchMember {
  return { pod, source_node: source, target_node: target, migration_id: null, refused };
}

function refusal(code: string, detail: string): Target {
  return { node: null, refusal: { code, detail } };
}

function notFound(pod: PodName): Refusal {
  return { code: 'pod-not-found', detail: `pod ${pod.namespace}/${pod.name} does not exist` };
}

function now(): Date {
  return new Date();
}
