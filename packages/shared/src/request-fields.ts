import { z } from 'zod';

// Kubernetes object names: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Request fields the single migration, batch and drain requests share, so that each
 * refuses a bad name with the same words. `what` is the field as the client wrote it.
 */
export function objectNameSchema(what: string) {
  return z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(253, `${what} must be at most 253 characters`)
    .regex(
      DNS_SUBDOMAIN,
      `${what} must be a valid Kubernetes name: lowercase letters, digits, '-' and '.', ` +
        'starting and ending with a letter or digit',
    );
}

export function namespaceNameSchema(what: string) {
  return z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be at most 63 characters`)
    .regex(DNS_LABEL, `${what} must be a valid namespace name: lowercase letters, digits and '-'`);
}

/** The message of a strict object's unknown keys; other issues keep zod's own. */
export function unknownFieldMessage(issue: { code?: string; keys?: string[] }): string | undefined {
  if (issue.code !== 'unrecognized_keys') return undefined;
  return `unknown field(s): ${(issue.keys ?? []).join(', ')}`;
}
