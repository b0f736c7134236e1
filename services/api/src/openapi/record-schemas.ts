import { z } from 'zod';

import { FINISHED_STATUSES, resolvedMigrationRequestSchema, STAGES } from '@aso/shared';

/**
 * The shapes the API answers with, as zod schemas: the OpenAPI description is
 * generated from them, and a type test (record-schemas.unit.test.ts) proves every
 * MigrationRecord the store can hold fits them, so the two cannot drift apart.
 */

const timestamp = z.iso.datetime({ offset: true });
const nullableTimestamp = timestamp.nullable();

const stage = z.enum(STAGES);

const migrationStatus = z
  .enum(['pending', 'waiting', 'running', ...FINISHED_STATUSES])
  .describe('pending: accepted; waiting: held by a cap in flight; running; then an end');

const containerState = z.object({
  name: z.string(),
  state: z.enum(['running', 'waiting', 'completed', 'failed']),
  reason: z.string().nullable().describe('why the container waits or how it ended'),
  exit_code: z.int().nullable(),
  restart_count: z.int(),
  should_migrate: z.boolean(),
  decision: z.string().describe('why the container is kept or dropped'),
});

const requestedResources = z.object({
  cpu: z.string(),
  memory: z.string(),
  cpu_millicores: z.number(),
  memory_bytes: z.number(),
  containers_without_requests: z
    .array(z.string())
    .describe('containers that request nothing: their share is not counted'),
});

const unmeasured = z.object({ status: z.literal('unmeasured'), reason: z.string() });

const measuredResources = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('measured'),
    cpu: z.string(),
    memory: z.string(),
    cpu_millicores: z.number(),
    memory_bytes: z.number(),
    timestamp: z.string(),
    window: z.string(),
    containers: z.array(
      z.object({ name: z.string(), cpu_millicores: z.number(), memory_bytes: z.number() }),
    ),
  }),
  unmeasured,
]);

const resourceFigures = z.object({ requested: requestedResources, measured: measuredResources });

const savingFields = {
  cpu_millicores: z.number(),
  memory_bytes: z.number(),
  cpu_percent: z.number().nullable(),
  memory_percent: z.number().nullable(),
};

const savings = z.object({
  requested: z.object(savingFields),
  measured: z.discriminatedUnion('status', [
    z.object({ ...savingFields, status: z.literal('measured') }),
    unmeasured,
  ]),
});

const stageTiming = z.object({
  started_at: nullableTimestamp,
  finished_at: nullableTimestamp,
  attempts: z.int(),
  last_error: z.string().nullable(),
});

const resourceFit = z.object({
  unit: z.enum(['millicores', 'bytes', 'pods']),
  requested: z.number(),
  allocatable: z.number(),
  in_use: z.number(),
  free: z.number().describe('allocatable minus in_use; negative when overcommitted'),
  fits: z.boolean(),
});

const plannedResources = z.object({
  requested: requestedResources,
  scheduling_request: z.object({ cpu_millicores: z.number(), memory_bytes: z.number() }),
  qos_class: z.enum(['Guaranteed', 'Burstable', 'BestEffort']),
});

const switchStrategy = z.enum(['make-before-break', 'break-before-make', 'replicaset-handoff']);

export const migrationPlanSchema = z.object({
  pod: z.object({ namespace: z.string(), name: z.string(), uid: z.string().nullable() }),
  source_node: z.string(),
  target_node: z.string(),
  containers: z.array(
    z.object({
      name: z.string(),
      role: z.enum(['app', 'init', 'sidecar']),
      keep: z.boolean(),
      state: z.enum(['running', 'waiting', 'completed', 'failed']).nullable(),
      reason: z.string(),
    }),
  ),
  kept_containers: z.array(z.string()),
  resources: z.object({ before: plannedResources, after: plannedResources }),
  placement: z.object({
    target_node: z.string(),
    hostname: z.string().nullable(),
    method: z.literal('scheduler-required-node-affinity'),
    requirement: z.object({
      match: z.enum(['label', 'field']),
      key: z.string(),
      operator: z.literal('In'),
      values: z.array(z.string()),
    }),
    description: z.string(),
  }),
  capacity: z.object({
    node: z.string(),
    cpu: resourceFit,
    memory: resourceFit,
    pods: resourceFit,
    fits: z.boolean(),
  }),
  volumes: z.object({
    strategy: z.enum(['make-before-break', 'break-before-make']),
    strategy_reason: z.string(),
    volumes: z.array(
      z.object({
        name: z.string(),
        kind: z.string(),
        claim: z.string().nullable(),
        persistent_volume: z.string().nullable(),
        access_modes: z.array(z.string()),
        single_node: z.boolean(),
        reason: z.string(),
      }),
    ),
  }),
  controller: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('none') }),
    z.object({
      kind: z.literal('ReplicaSet'),
      name: z.string(),
      strategy: z.literal('replicaset-handoff'),
    }),
  ]),
  warnings: z.array(z.string()),
});

/** A Kubernetes Pod; its schema is Kubernetes' own, not repeated here. */
const podManifest = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.unknown().optional(),
  spec: z.unknown().optional(),
  status: z.unknown().optional(),
});

const migrationDetails = z.object({
  plan: migrationPlanSchema.nullable(),
  strategy: switchStrategy.nullable(),
  removal: z.enum(['evicted', 'deleted', 'replicaset']).nullable(),
  downtime_ms: z.number().nullable(),
  original_manifest: podManifest
    .nullable()
    .describe('the original pod as captured, without server-owned fields'),
  original_recreated_at: nullableTimestamp,
  workload: z.string().nullable(),
  source_pod_uid: z.string().nullable(),
  restart_policy: z.string().nullable(),
  container_states: z.array(containerState),
  new_pod_name: z.string().nullable(),
  new_pod_uid: z.string().nullable(),
  new_pod_node: z.string().nullable(),
  new_pod_ready_at: nullableTimestamp,
  pv_claim_name: z.string().nullable(),
  checkpoint_path: z.string().nullable(),
  original_removed_at: nullableTimestamp,
  original_resources: resourceFigures.nullable(),
  optimized_resources: resourceFigures.nullable(),
  savings: savings.nullable(),
  warnings: z.array(z.string()),
});

export const migrationRecordSchema = z.object({
  migration_id: z.uuid(),
  status: migrationStatus,
  stage: stage.nullable(),
  message: z.string(),
  request: resolvedMigrationRequestSchema,
  created_at: timestamp,
  updated_at: timestamp,
  finished_at: nullableTimestamp,
  deadline_at: timestamp.describe(
    'created_at plus the timeout; for a batch or drain member, set again when it is admitted ' +
      '(gets its place in flight): its timeout counts from then',
  ),
  // Absent from records written before cancellation existed.
  cancel_requested_at: nullableTimestamp.optional(),
  duration_ms: z.number().nullable(),
  stages: z.object({ capture: stageTiming, pod: stageTiming, metrics: stageTiming }),
  details: migrationDetails,
  progress: z.object({
    claim_created: z.boolean(),
    new_pod_created: z.boolean(),
    original_removed: z.boolean(),
    original_recreated: z.boolean(),
    switch_started: z.boolean().optional(),
  }),
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      stage: stage.nullable(),
      rolled_back: z.boolean().describe('whether the cluster was put back as it was'),
    })
    .nullable(),
  // Absent from records written before batches existed, null for single migrations.
  batch: z
    .object({
      batch_id: z.string(),
      max_in_flight: z.int().describe('members of the batch in flight at once, at most'),
    })
    .nullable()
    .optional()
    .describe('the batch or drain this migration belongs to'),
});

/** The answer to an accepted POST: the record plus where to read it. */
export const acceptedMigrationSchema = migrationRecordSchema.extend({
  location: z.string().describe('the path of the migration, also in the Location header'),
});

export const migrationListSchema = z.object({
  items: z.array(migrationRecordSchema).describe('newest first'),
  count: z.int(),
  limit: z.int(),
});

export const dryRunSchema = z.object({
  dry_run: z.literal(true),
  request: resolvedMigrationRequestSchema,
  plan: migrationPlanSchema,
});

const savingTotals = z.object({
  cpu_millicores: z.number(),
  memory_bytes: z.number(),
  migrations: z.int().describe('how many completed migrations the totals rest on'),
});

export const kpisSchema = z.object({
  total: z.int(),
  succeeded: z.int(),
  failed: z.int(),
  cancelled: z.int(),
  in_flight: z.int(),
  success_rate: z.number().nullable().describe('completed over completed plus failed'),
  duration_ms: z.object({
    mean: z.number().nullable(),
    p95: z.number().nullable(),
    samples: z.int(),
  }),
  savings: z.object({ requested: savingTotals, measured: savingTotals }),
});

export const healthSchema = z.object({ status: z.literal('ok') });

export const readinessSchema = z.object({
  status: z.enum(['ready', 'not ready']),
  checks: z.record(
    z.string(),
    z.object({ status: z.enum(['ok', 'failing']), detail: z.string().optional() }),
  ),
});

export const problemSchema = z
  .object({
    type: z.string().describe('urn:aso:problem:<code>'),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string(),
    code: z.string().describe('stable error code'),
    request_id: z.string().describe('also in the X-Request-Id header'),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('each invalid field, on invalid-request'),
    migration_id: z.uuid().optional().describe('the migration in progress, on 409'),
  })
  .describe('An RFC 9457 problem document');

export const adminSessionSchema = z.object({
  access: z.enum(['read-write', 'read-only']),
  expires_at: timestamp,
});
