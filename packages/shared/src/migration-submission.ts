import { randomUUID } from 'node:crypto';

import { OrchestratorError, QueueUnavailableError } from './errors.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { refuseUnfinishedOwner } from './migration-ownership.ts';
import { resolveSourceNode, type MigrationRequestInput } from './migration-request.ts';
import type { Created, IdempotencyClaim, MigrationStore } from './migration-store.ts';
import type { PlannedMigration } from './preflight/read-plan.ts';
import type { StageQueues } from './stage-queues.ts';

/**
 * Runs the pre-flight against the cluster; throws the refusal's error. Its plan's
 * source_node is the pod's node when the request named none.
 */
export type Planner = (request: MigrationRequestInput) => Promise<PlannedMigration>;

/** What starting a migration needs, whoever starts it: the gateway, a batch, a policy. */
export interface SubmissionDeps {
  store: MigrationStore;
  queues: StageQueues;
  planner: Planner;
  now?: (() => Date) | undefined;
  newId?: (() => string) | undefined;
}

/**
 * Plans, stores and queues one migration. The pre-flight refuses what cannot
 * succeed before anything is stored; a refusal throws its typed error.
 */
export async function submitMigration(
  deps: SubmissionDeps,
  request: MigrationRequestInput,
  idempotency?: IdempotencyClaim,
): Promise<Created> {
  const { plan } = await planSubmission(deps, request);
  const resolved = resolveSourceNode(request, plan.source_node);

  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  return enqueueMigration(deps, newMigrationRecord(newId(), resolved, now()), idempotency);
}

/**
 * The pre-flight as every starter runs it: the planner's checks on the cluster,
 * then a refusal of a pod that is the new pod of a migration still running.
 */
export async function planSubmission(
  deps: Pick<SubmissionDeps, 'planner' | 'store'>,
  request: MigrationRequestInput,
): Promise<PlannedMigration> {
  const planned = await deps.planner(request);
  await fromStore(() => refuseUnfinishedOwner((id) => deps.store.get(id), planned.pod));
  return planned;
}

/**
 * Durable hand-off: the record is written first, then the capture job. If the job
 * cannot be queued the record is withdrawn, so no migration exists that nothing
 * will ever work on; the caller gets a 503 and may retry.
 */
export async function enqueueMigration(
  deps: Pick<SubmissionDeps, 'store' | 'queues'>,
  record: MigrationRecord,
  idempotency?: IdempotencyClaim,
): Promise<Created> {
  // The accepted event is written with the record, before the job is queued, so that
  // the first stage's events always come after it.
  const created = await fromStore(() =>
    deps.store.create(record, idempotency, { type: 'accepted', message: 'migration accepted' }),
  );
  if (created.replayed) return created;

  try {
    await deps.queues.enqueue('capture', record.migration_id);
  } catch (error) {
    await deps.store.discard(record, idempotency).catch(() => undefined);
    throw new QueueUnavailableError('the migration queue (Redis) cannot be reached; retry later', {
      cause: error,
    });
  }
  return created;
}

/** Store calls that fail because Redis is away become a 503, like queue writes do. */
export async function fromStore<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof OrchestratorError) throw error;
    throw new QueueUnavailableError('the migration store (Redis) cannot be reached; retry later', {
      cause: error,
    });
  }
}
