import { z } from 'zod';

/** Bounds of the migration timeout, in seconds. */
export const MIN_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 3600;
export const DEFAULT_TIMEOUT_SECONDS = 600;

// Kubernetes object names: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const subdomainName = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(253, `${what} must be at most 253 characters`)
    .regex(
      DNS_SUBDOMAIN,
      `${what} must be a valid Kubernetes name: lowercase letters, digits, '-' and '.', ` +
        'starting and ending with a letter or digit',
    );

const namespaceName = z
  .string({ error: 'pod_namespace must be a string' })
  .min(1, 'pod_namespace must not be empty')
  .max(63, 'pod_namespace must be at most 63 characters')
  .regex(
    DNS_LABEL,
    "pod_namespace must be a valid namespace name: lowercase letters, digits and '-'",
  );

const nodeName = subdomainName('source_node');

/** The fields of a request; the source node is optional only as the client sends it. */
function requestShape<Source extends z.ZodType>(sourceNode: Source) {
  return {
    pod_name: subdomainName('pod_name'),
    pod_namespace: namespaceName.default('default'),
    source_node: sourceNode,
    target_node: subdomainName('target_node'),
    preserve_pv: z.boolean({ error: 'preserve_pv must be true or false' }).default(false),
    /** Plan only: answer with the plan and create nothing. */
    dry_run: z.boolean({ error: 'dry_run must be true or false' }).default(false),
    /** Delete the original instead of evicting it, so PodDisruptionBudgets are bypassed. */
    force: z.boolean({ error: 'force must be true or false' }).default(false),
    timeout: z
      .int({ error: 'timeout must be a whole number of seconds' })
      .min(MIN_TIMEOUT_SECONDS, `timeout must be at least ${MIN_TIMEOUT_SECONDS} seconds`)
      .max(MAX_TIMEOUT_SECONDS, `timeout must be at most ${MAX_TIMEOUT_SECONDS} seconds`)
      .default(DEFAULT_TIMEOUT_SECONDS),
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

function unknownFieldMessage(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  return `unknown field(s): ${(issue.keys ?? []).join(', ')}`;
}

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
