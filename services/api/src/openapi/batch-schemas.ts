import { z } from 'zod';

import { MEMBER_STATUSES } from '../batches/batch-view.ts';

/** The shapes the batch and drain routes answer with; the description is generated from them. */

const timestamp = z.iso.datetime();
const podName = z.object({ namespace: z.string(), name: z.string() });
const memberStatus = z.enum(MEMBER_STATUSES);

const member = z.object({
  pod: podName,
  source_node: z.string().nullable().describe('the node the pod ran on when the batch started'),
  target_node: z.string().nullable().describe('the node named, or chosen for it by "any"'),
  migration_id: z.uuid().nullable().describe('its migration; null when it was refused'),
  refused: z
    .object({
      code: z.string().describe('the pre-flight problem code, or the batch reason'),
      detail: z.string(),
    })
    .nullable(),
  status: memberStatus.describe(
    'its migration status; refused: never started; expired: its record outlived retention',
  ),
  message: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

const leftPod = z.object({
  pod: podName,
  code: z
    .string()
    .describe(
      'daemonset, mirror-pod, pod-terminating, pod-finished, namespace-not-allowed, or the ' +
        'pre-flight code that refused it',
    ),
  reason: z.string(),
});

export const batchViewSchema = z.object({
  batch_id: z.uuid(),
  kind: z.enum(['batch', 'drain']),
  status: z
    .enum(['running', 'completed', 'partially-failed', 'failed', 'cancelled'])
    .describe(
      'running while a member has not ended; cancelled after a cancel once all ended; ' +
        'completed when every member completed (and a drain left no movable pod behind); ' +
        'failed when none did; partially-failed otherwise',
    ),
  created_at: timestamp,
  updated_at: timestamp,
  cancel_requested_at: timestamp.nullable(),
  max_in_flight: z.int(),
  target_node: z.string().describe('a node name, or "any"'),
  selection: z.union([
    z.object({ namespace: z.string(), selector: z.string() }),
    z.object({ pods: z.array(podName) }),
    z.object({ node: z.string() }),
  ]),
  options: z.object({ preserve_pv: z.boolean(), force: z.boolean(), timeout: z.int() }),
  members: z.array(member),
  drain: z
    .object({
      node: z.string(),
      was_cordoned: z.boolean().describe('cordoned before the drain; a cancel leaves it so'),
      cordoned_at: timestamp.nullable(),
      uncordoned_at: timestamp.nullable(),
      left: z.array(leftPod).describe('pods the drain leaves on the node, and why'),
      not_moved: z
        .int()
        .optional()
        .describe(
          'how many of `left` are movable pods the drain could not start (pre-flight refusal, ' +
            'no target fits); with any, the drain is never completed',
        ),
    })
    .nullable(),
  warnings: z
    .array(z.string())
    .optional()
    .describe(
      'what the request asked that cannot be done as asked: a drain whose max_in_flight ' +
        'exceeds the per-node cap runs (and records) that cap instead',
    ),
  summary: z.object({
    members: z.int(),
    by_status: z.object(
      Object.fromEntries(MEMBER_STATUSES.map((status) => [status, z.int()])) as Record<
        (typeof MEMBER_STATUSES)[number],
        z.ZodInt
      >,
    ),
  }),
});

export const acceptedBatchSchema = batchViewSchema.extend({
  location: z.string().describe('the path of the batch or drain, also in the Location header'),
});

const memberCancel = z.object({
  migration_id: z.uuid(),
  pod: podName,
  outcome: z
    .enum(['cancelled', 'cancel-requested', 'refused'])
    .describe(
      'cancelled: ended at once; cancel-requested: its stage rolls back; refused: past its switch',
    ),
  code: z.string().nullable().describe('why it was refused, e.g. migration-switch-started'),
  detail: z.string(),
});

export const cancelledBatchSchema = batchViewSchema.extend({
  cancels: z.array(memberCancel).describe('what the cancel did to each unfinished member'),
});

export const cancelledDrainSchema = cancelledBatchSchema.extend({
  uncordoned: z
    .boolean()
    .describe('whether the node was uncordoned (only if the drain cordoned it)'),
});

export const batchListSchema = z.object({
  items: z.array(batchViewSchema).describe('newest first'),
  count: z.int(),
  limit: z.int(),
});
