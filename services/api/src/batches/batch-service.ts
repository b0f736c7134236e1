import { randomUUID } from 'node:crypto';

import { fromStore, OrchestratorError, type MigrationRecord } from '@aso/shared';

import { requireAllowedNamespace } from '../namespace-policy.ts';
import {
  BatchAllRefusedError,
  BatchTooLargeError,
  SelectorMatchedNothingError,
} from './batch-errors.ts';
import { startMembers, type Candidate, type MemberDeps } from './batch-members.ts';
import {
  MAX_BATCH_MEMBERS,
  memberSelection,
  type BatchRequest,
  type MemberSelection,
} from './batch-request.ts';
import type { BatchRecord, BatchStore } from './batch-store.ts';
import { batchView, cancellable, type BatchView } from './batch-view.ts';

export interface BatchDeps extends MemberDeps {
  batches: BatchStore;
  allowedNamespaces?: ReadonlySet<string> | undefined;
  /** The capture workers' per-source-node cap; unknown when unset. */
  maxInFlightPerNode?: number | undefined;
}

/**
 * Starts a batch: finds its members, stores the batch (before any member starts,
 * so that no member ever names a batch that does not exist), starts each member
 * and stores the outcome. When every member is refused the batch is withdrawn and
 * the answer is a 422 naming each member's reason.
 */
export async function createBatch(deps: BatchDeps, request: BatchRequest): Promise<BatchView> {
  const selection = memberSelection(request);
  for (const namespace of namespacesOf(selection)) {
    requireAllowedNamespace(deps.allowedNamespaces, namespace);
  }
  const candidates = await findCandidates(deps, selection);

  const batch = newBatch(deps, 'batch', request, selectionRecord(selection));
  await fromStore(() => deps.batches.save(batch));
  batch.members = await startMembers(deps, batch, candidates);
  if (batch.members.every((member) => member.refused !== null)) {
    // Nothing started, so no member names the batch: it is withdrawn, not kept as failed.
    await fromStore(() => deps.batches.remove(batch));
    throw new BatchAllRefusedError(batch.members);
  }
  batch.updated_at = (deps.now ?? (() => new Date()))().toISOString();
  await fromStore(() => deps.batches.save(batch));
  return batchView(deps.store, batch);
}

export function newBatch(
  deps: Pick<BatchDeps, 'now' | 'newId'>,
  kind: BatchRecord['kind'],
  request: Pick<
    BatchRequest,
    'max_in_flight' | 'target_node' | 'preserve_pv' | 'force' | 'timeout'
  >,
  selection: BatchRecord['selection'],
): BatchRecord {
  const created = (deps.now ?? (() => new Date()))().toISOString();
  return {
    batch_id: (deps.newId ?? randomUUID)(),
    kind,
    created_at: created,
    updated_at: created,
    cancel_requested_at: null,
    max_in_flight: request.max_in_flight,
    target_node: request.target_node,
    selection,
    options: { preserve_pv: request.preserve_pv, force: request.force, timeout: request.timeout },
    members: [],
    drain: null,
  };
}

/** The batch as answered, its expiry pushed back while members still run. */
export async function readBatch(deps: BatchDeps, batch: BatchRecord): Promise<BatchView> {
  const view = await fromStore(() => batchView(deps.store, batch));
  if (view.status === 'running') await fromStore(() => deps.batches.keepAlive(batch));
  return view;
}

/** What a cancel did to one member. */
export interface MemberCancel {
  migration_id: string;
  pod: { namespace: string; name: string };
  /** cancelled: ended at once. cancel-requested: its stage rolls back. refused: too late. */
  outcome: 'cancelled' | 'cancel-requested' | 'refused';
  code: string | null;
  detail: string;
}

/**
 * Cancels every member not yet switched, each through the store's cancel as a
 * single migration's DELETE, and reports per member what happened. Members past
 * their switch finish by themselves. A batch that has already ended is left as it
 * is, its status included.
 */
export async function cancelBatch(
  deps: BatchDeps,
  batch: BatchRecord,
): Promise<{ view: BatchView; cancels: MemberCancel[] }> {
  const now = (deps.now ?? (() => new Date()))();
  const before = await fromStore(() => batchView(deps.store, batch));
  // A batch that has ended keeps its outcome: a late cancel changes nothing in it.
  if (before.status !== 'running') return { view: before, cancels: [] };

  batch.cancel_requested_at ??= now.toISOString();
  batch.updated_at = now.toISOString();
  await fromStore(() => deps.batches.save(batch));
  const cancels: MemberCancel[] = [];
  for (const member of before.members.filter(cancellable)) {
    const id = member.migration_id ?? '';
    cancels.push({ migration_id: id, pod: member.pod, ...(await cancelMember(deps, id, now)) });
  }

  return { view: await fromStore(() => batchView(deps.store, batch)), cancels };
}

async function cancelMember(
  deps: BatchDeps,
  migrationId: string,
  now: Date,
): Promise<Pick<MemberCancel, 'outcome' | 'code' | 'detail'>> {
  try {
    const record: MigrationRecord = await deps.store.requestCancel(migrationId, now);
    if (record.status === 'cancelled') {
      deps.metrics.countFinished(record);
      return { outcome: 'cancelled', code: null, detail: record.message };
    }
    return { outcome: 'cancel-requested', code: null, detail: record.message };
  } catch (error) {
    if (!(error instanceof OrchestratorError)) throw error;
    return { outcome: 'refused', code: error.code, detail: error.message };
  }
}

async function findCandidates(deps: BatchDeps, selection: MemberSelection): Promise<Candidate[]> {
  if (selection.kind === 'pods') {
    return Promise.all(
      selection.pods.map(async (name): Promise<Candidate> => {
        const pod = await deps.cluster.readPod(name.namespace, name.name);
        return pod === null ? { missing: name } : { pod };
      }),
    );
  }

  const pods = await deps.cluster.listPods(selection.namespace, selection.selector);
  if (pods.length === 0) {
    throw new SelectorMatchedNothingError(selection.namespace, selection.selector);
  }
  if (pods.length > MAX_BATCH_MEMBERS) {
    throw new BatchTooLargeError(
      pods.length,
      MAX_BATCH_MEMBERS,
      `the selector ${selection.selector}`,
    );
  }
  return pods.map((pod) => ({ pod }));
}

function namespacesOf(selection: MemberSelection): string[] {
  if (selection.kind === 'selector') return [selection.namespace];
  return [...new Set(selection.pods.map((pod) => pod.namespace))];
}

function selectionRecord(selection: MemberSelection): BatchRecord['selection'] {
  return selection.kind === 'pods'
    ? { pods: selection.pods }
    : { namespace: selection.namespace, selector: selection.selector };
}
