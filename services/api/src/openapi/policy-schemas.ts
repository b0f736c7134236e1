import { z } from 'zod';

import { POLICY_DECISIONS, policySchema } from '@aso/shared';

/**
 * The shapes of the /api/v1/policies answers. policy-schemas.unit.test.ts proves
 * the shared types fit them, so the description follows the store.
 */

const timestamp = z.iso.datetime({ offset: true });

export const storedPolicySchema = z
  .object({
    ...policySchema.shape,
    source: z
      .enum(['api', 'configuration'])
      .describe('configuration: from ASO_POLICIES_FILE, read-only through the API'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .describe('A load policy as stored');

const podEvaluationSchema = z.object({
  pod: z.string(),
  node: z.string().nullable(),
  usage: z.string().nullable().describe("measured usage of the policy's metric, all containers"),
  above_since: timestamp.nullable().describe('since when usage has stayed above the threshold'),
  decision: z.enum(POLICY_DECISIONS),
  reason: z.string().describe('why, in words'),
  migration_id: z.uuid().optional().describe('the migration started, or the one in progress'),
  target_node: z.string().optional(),
  problem: z
    .object({ code: z.string(), detail: z.string() })
    .optional()
    .describe("the pre-flight's refusal, on refused-by-preflight"),
});

export const policyRunSchema = z.object({
  evaluated_at: timestamp,
  dry_run: z.boolean(),
  pods: z.array(podEvaluationSchema),
  error: z.string().optional().describe('why the policy could not be evaluated at all'),
});

export const policyStartSchema = z.object({
  migration_id: z.uuid(),
  pod: z.string(),
  started_at: timestamp,
});

export const policyDetailsSchema = storedPolicySchema
  .extend({
    evaluations: z.array(policyRunSchema).describe('the latest evaluations, newest first'),
    started_migrations: z
      .array(policyStartSchema)
      .describe('the migrations the policy started, newest first'),
    last_evaluation_at: timestamp
      .nullable()
      .describe(
        'when the metrics workers last finished evaluating every policy (null: never); ' +
          'long ago means no worker runs, or the lease is held by one that stopped',
      ),
  })
  .describe('A load policy with its latest evaluations');

export const policyListSchema = z.object({
  items: z.array(storedPolicySchema),
  count: z.int(),
});
