import { z } from 'zod';

import { namespaceNameSchema, objectNameSchema, unknownFieldMessage } from './request-fields.ts';

/** Bounds of the migration timeout, in seconds. */
export const MIN_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 3600;
export const DEFAULT_TIMEOUT_SECONDS = 600;

const nodeName = objectNameSchema('source_node');

/** The options a single migration shares with every member of a batch or drain. */
export const migrationOptionFields = {
  preserve_pv: z.boolean({ error: 'preserve_pv must be true or false' }).default(false),
  /** Delete the original instead of evicting it, so PodDisruptionBudgets are bypassed. */
  force: z.boolean({ error: 'force must be true or false' }).default(false),
  timeout: z
    .int({ error: 'timeout must be a whole number of seconds' })
    .min(MIN_TIMEOUT_SECONDS, `timeout must be at least ${MIN_TIMEOUT_SECONDS} seconds`)
    .max(MAX_TIMEOUT_SECONDS, `timeout must be at most ${MAX_TIMEOUT_SECONDS} seconds`)
    .default(DEFAULT_TIMEOUT_SECONDS),
};

/** The fields of a request; the source node is optional only as the client sends it. */
function requestShape<Source extends z.ZodType>(sourceNode: Source) {
  return {
    pod_name: objectNameSchema('pod_name'),
    pod_namespace: namespaceNameSchema('pod_namespace').default('default'),
    source_node: sourceNode,
    target_node: objectNameSchema('target_node'),
    /** Plan only: answer with the plan and create nothing. */
    dry_run: z.boolean({ error: 'dry_run must be true or false' }).default(false),
    ...migrationOptionFields,
  };
}

const strictFields = {
  error: (issue: { code?: string; keys?: string[] }) => unknownFieldMessage(issue),
};

function distinctNodes(request: {
  source_node?: string | undefined;
  target_node: string;
}): boolean {
  return request.source_node !== request.target_node;
}

const DISTINCT_NODES = { path: ['target_node'], error: 'target_node must differ from source_node' };

/**
 * A migration request as a client sends it. Without source_node the pre-flight
 * takes the node the pod runs on, so that callers need not look it up first.
 */
export const migrationRequestSchema = z
  .strictObject(
    requestShape(
      nodeName
        .optional()
        .describe(
          'the node the pod runs on now; when absent, the pre-flight fills in the node the pod ' +
            'runs on, and the stored record always carries it',
        ),
    ),
    strictFields,
  )
  .refine(distinctNodes, DISTINCT_NODES);

/** A request as its record stores it: the source node is always known. */
export const resolvedMigrationRequestSchema = z
  .strictObject(requestShape(nodeName), strictFields)
  .refine(distinctNodes, DISTINCT_NODES);

/** What a client sent, defaults filled in; source_node may still be unknown. */
export type MigrationRequestInput = z.output<typeof migrationRequestSchema>;

/** A request with its source node known: what a migration record holds. */
export type MigrationRequest = z.output<typeof resolvedMigrationRequestSchema>;

/** The request as its record stores it, with the source node the pre-flight found. */
export function resolveSourceNode(
  request: MigrationRequestInput,
  sourceNode: string,
): MigrationRequest {
  return { ...request, source_node: request.source_node ?? sourceNode };
}
