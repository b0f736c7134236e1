import type { V1Pod } from '@kubernetes/client-node';

import type { MigrationRequest } from './migration-request.ts';
import type { MigrationPlan } from './preflight/plan.ts';

/**
 * pending: accepted, not yet picked up. waiting: held back by a cap on migrations
 * in flight. running: a stage works on it. completed, failed and cancelled are ends.
 */
export type MigrationStatus =
  'pending' | 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The statuses a migration ends in. */
export const FINISHED_STATUSES = ['completed', 'failed', 'cancelled'] as const;
export type FinishedStatus = (typeof FINISHED_STATUSES)[number];

/** The stages a migration passes through, in order; each has its own queue. */
export const STAGES = ['capture', 'pod', 'metrics'] as const;
export type Stage = (typeof STAGES)[number];

export type ContainerRunState = 'running' | 'waiting' | 'completed' | 'failed';

export interface ContainerState {
  name: string;
  state: ContainerRunState;
  /** Why the container waits or how it ended, as the kubelet reported it. */
  reason: string | null;
  exit_code: number | null;
  restart_count: number;
  should_migrate: boolean;
  /** Why the container is kept or dropped. */
  decision: string;
}

/** Requested CPU and memory, summed over a pod's app containers. */
export interface RequestedResources {
  cpu: string;
  memory: string;
  cpu_millicores: number;
  memory_bytes: number;
  /** Containers that request nothing for CPU or memory: their share is not counted. */
  containers_without_requests: string[];
}

export type MeasuredResources =
  | {
      status: 'measured';
      cpu: string;
      memory: string;
      cpu_millicores: number;
      memory_bytes: number;
      /** When metrics.k8s.io took the sample, and over which window. */
      timestamp: string;
      window: string;
      containers: { name: string; cpu_millicores: number; memory_bytes: number }[];
    }
  | { status: 'unmeasured'; reason: string };

export interface ResourceFigures {
  requested: RequestedResources;
  measured: MeasuredResources;
}

export interface Saving {
  cpu_millicores: number;
  memory_bytes: number;
  cpu_percent: number | null;
  memory_percent: number | null;
}

export interface Savings {
  requested: Saving;
  measured: (Saving & { status: 'measured' }) | { status: 'unmeasured'; reason: string };
}

export interface StageTiming {
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  last_error: string | null;
}

/** What the stages have done so far, so that a retried stage neither repeats nor leaks. */
export interface MigrationProgress {
  claim_created: boolean;
  new_pod_created: boolean;
  original_removed: boolean;
  /** Break-before-make rollback: the original was created again on the source node. */
  original_recreated: boolean;
  /**
   * The switch to the new pod began (the original's removal was requested, or the
   * new pod joined the ReplicaSet): from here the migration is no longer cancellable.
   * Absent from records written before cancellation existed.
   */
  switch_started?: boolean;
}

/**
 * How the switch happens. make-before-break: the new pod is Ready before the original
 * goes. break-before-make: a ReadWriteOnce claim must be released first, so the
 * original goes first. replicaset-handoff: the new pod joins the ReplicaSet, which
 * then removes the original itself.
 */
export type SwitchStrategy = 'make-before-break' | 'break-before-make' | 'replicaset-handoff';

/** How the original left: evicted (budgets respected), deleted (force), or by its ReplicaSet. */
export type RemovalMethod = 'evicted' | 'deleted' | 'replicaset';

export interface MigrationDetails {
  /** The pre-flight plan the capture stage made; the dry run returns the same. */
  plan: MigrationPlan | null;
  strategy: SwitchStrategy | null;
  removal: RemovalMethod | null;
  /**
   * Time the workload had no Ready pod, from the original's removal to the new pod's
   * readiness; 0 when the new pod was Ready first. Null until the switch happened.
   */
  downtime_ms: number | null;
  /**
   * The original as captured, without server-owned fields: what a break-before-make
   * rollback creates again on the source node.
   */
  original_manifest: V1Pod | null;
  original_recreated_at: string | null;
  /**
   * The workload the pod belongs to: the original's name, or the workload an earlier
   * migration recorded on it. It names the new pod and the checkpoint claim.
   */
  workload: string | null;
  source_pod_uid: string | null;
  restart_policy: string | null;
  container_states: ContainerState[];
  new_pod_name: string | null;
  new_pod_uid: string | null;
  new_pod_node: string | null;
  new_pod_ready_at: string | null;
  pv_claim_name: string | null;
  checkpoint_path: string | null;
  original_removed_at: string | null;
  original_resources: ResourceFigures | null;
  optimized_resources: ResourceFigures | null;
  savings: Savings | null;
  warnings: string[];
}

export interface MigrationFailure {
  code: string;
  message: string;
  stage: Stage | null;
  rolled_back: boolean;
}

/**
 * The batch (or drain) a migration belongs to, and that batch's cap on members in
 * flight at once, kept on the record so the admission of its capture stage can hold
 * it without reading the batch.
 */
export interface MigrationBatchRef {
  batch_id: string;
  max_in_flight: number;
}

export interface MigrationRecord {
  migration_id: string;
  status: MigrationStatus;
  stage: Stage | null;
  message: string;
  request: MigrationRequest;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /**
   * When the migration fails deadline-exceeded: created_at plus the timeout. For a
   * batch or drain member it is set again when the member is admitted (the capture
   * stage's first start), so that its wait for a place in flight spends none of it.
   */
  deadline_at: string;
  /** When an operator asked to cancel; the stage at work rolls back and ends it. */
  cancel_requested_at: string | null;
  duration_ms: number | null;
  stages: Record<Stage, StageTiming>;
  details: MigrationDetails;
  progress: MigrationProgress;
  error: MigrationFailure | null;
  /** Set on members of a batch or drain; absent or null for single migrations. */
  batch?: MigrationBatchRef | null;
}

export const CHECKPOINT_MOUNT_PATH = '/migration-checkpoint';

function emptyStageTiming(): StageTiming {
  return { started_at: null, finished_at: null, attempts: 0, last_error: null };
}

export function newMigrationRecord(
  migrationId: string,
  request: MigrationRequest,
  now: Date,
): MigrationRecord {
  const created = now.toISOString();

  return {
    migration_id: migrationId,
    status: 'pending',
    stage: null,
    message: 'migration queued',
    request,
    created_at: created,
    updated_at: created,
    finished_at: null,
    deadline_at: new Date(now.getTime() + request.timeout * 1000).toISOString(),
    cancel_requested_at: null,
    duration_ms: null,
    stages: { capture: emptyStageTiming(), pod: emptyStageTiming(), metrics: emptyStageTiming() },
    details: {
      plan: null,
      strategy: null,
      removal: null,
      downtime_ms: null,
      original_manifest: null,
      original_recreated_at: null,
      workload: null,
      source_pod_uid: null,
      restart_policy: null,
      container_states: [],
      new_pod_name: null,
      new_pod_uid: null,
      new_pod_node: null,
      new_pod_ready_at: null,
      pv_claim_name: null,
      checkpoint_path: null,
      original_removed_at: null,
      original_resources: null,
      optimized_resources: null,
      savings: null,
      warnings: [],
    },
    progress: {
      claim_created: false,
      new_pod_created: false,
      original_removed: false,
      original_recreated: false,
      switch_started: false,
    },
    error: null,
  };
}

/** The annotation that carries a migrated pod's workload name to its next migration. */
export const ANNOTATION_WORKLOAD = 'aso.dev/workload';

export function workloadOf(record: MigrationRecord): string {
  return record.details.workload ?? record.request.pod_name;
}

export function isFinished(record: MigrationRecord): boolean {
  return (FINISHED_STATUSES as readonly string[]).includes(record.status);
}

/**
 * Whether the switch to the new pod has begun: from then on the migration can only
 * go forward (or, for break-before-make, restore the original), never be cancelled.
 */
export function switchStarted(record: MigrationRecord): boolean {
  return (
    (record.progress.switch_started ?? false) ||
    record.details.removal !== null ||
    record.progress.original_removed
  );
}

/** Records written before cancellation existed lack the field; they were never cancelled. */
export function cancelRequested(record: MigrationRecord): boolean {
  return (record.cancel_requested_at ?? null) !== null;
}
