import { readFile } from 'node:fs/promises';

import { loadYaml } from '@kubernetes/client-node';
import { z } from 'zod';

import { ConfigError } from '../errors.ts';
import { policySchema, type Policy } from './policy.ts';

/** The most policies a file may hold: each is evaluated every interval. */
export const MAX_FILE_POLICIES = 100;

const policyFileSchema = z.strictObject(
  {
    policies: z
      .array(policySchema, { error: 'policies must be a list of policies' })
      .max(MAX_FILE_POLICIES, `at most ${MAX_FILE_POLICIES} policies`)
      .superRefine((policies, context) => {
        const seen = new Set<string>();
        policies.forEach((policy, index) => {
          if (seen.has(policy.name)) {
            context.addIssue({
              code: 'custom',
              message: `the name ${policy.name} is used twice`,
              path: [index, 'name'],
            });
          }
          seen.add(policy.name);
        });
      }),
  },
  { error: 'the file must hold an object with a "policies" list' },
);

/**
 * Reads the policy file (JSON or YAML, `policies:` a list). Every problem is
 * reported at once, each naming its field, e.g. `policies[1].threshold: ...`.
 */
export async function loadPolicyFile(path: string): Promise<Policy[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`ASO_POLICIES_FILE ${path} cannot be read: ${messageOf(error)}`);
  }
  return parsePolicyFile(text, path);
}

export function parsePolicyFile(text: string, origin: string): Policy[] {
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = loadYaml<unknown>(text);
  } catch (error) {
    throw new ConfigError(
      `ASO_POLICIES_FILE ${origin} is neither JSON nor YAML: ${messageOf(error)}`,
    );
  }

  const parsed = policyFileSchema.safeParse(document ?? {});
  if (parsed.success) return parsed.data.policies;

  const problems = parsed.error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
  throw new ConfigError(`ASO_POLICIES_FILE ${origin} is invalid: ${problems.join('; ')}`);
}

/** `policies[1].selector.match_labels.app`, as an operator reads the file. */
function fieldPath(path: PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path
    .map((part, index) => {
      if (typeof part === 'number') return `[${String(part)}]`;
      return index === 0 ? String(part) : `.${String(part)}`;
    })
    .join('');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
}
