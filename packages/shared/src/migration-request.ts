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

export const migrationRequestSchema = z
  .strictObject(
    {
      pod_name: subdomainName('pod_name'),
      pod_namespace: namespaceName.default('default'),
      source_node: subdomainName('source_node'),
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
    },
    { error: (issue) => unknownFieldMessage(issue) },
  )
  .refine((request) => request.source_node !== request.target_node, {
    path: ['target_node'],
    error: 'target_node must differ from source_node',
  });

function unknownFieldMessage(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  return `unknown field(s): ${(issue.keys ?? []).join(', ')}`;
}

export type MigrationRequest = z.output<typeof migrationRequestSchema>;
