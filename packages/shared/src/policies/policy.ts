import { z } from 'zod';

import { unknownFieldMessage } from '../request-fields.ts';
import { thresholdProblem } from './threshold.ts';

// Kubernetes names and labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Bounds that keep one policy's work per evaluation small. */
export const MAX_POLICY_TARGETS = 16;
export const MAX_POLICY_LABELS = 16;
export const MAX_FOR_SECONDS = 24 * 3600;
export const MAX_COOLDOWN_SECONDS = 7 * 24 * 3600;
export const MAX_POLICY_IN_FLIGHT = 50;

export const POLICY_METRICS = ['cpu', 'memory'] as const;

const dnsLabel = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(63, `${what} must be at most 63 characters`)
    .regex(DNS_LABEL, `${what} must be a DNS label: lowercase letters, digits and '-'`);

const nodeName = z
  .string({ error: 'each target node must be a string' })
  .min(1, 'a target node name must not be empty')
  .max(253, 'a target node name must be at most 253 characters')
  .regex(DNS_SUBDOMAIN, 'each target node must be a valid Kubernetes node name');

/** A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? null : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);

  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key "${key}" has an invalid prefix: it must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return (
      `label key "${key}" is invalid: at most 63 letters, digits, '-', '_' or '.', ` +
      'starting and ending with a letter or digit'
    );
  }
  return null;
}

export function labelValueProblem(key: string, value: string): string | null {
  if (value === '') return null;
  if (value.length <= 63 && LABEL_NAME.test(value)) return null;
  return (
    `label value "${value}" of "${key}" is invalid: at most 63 letters, digits, '-', '_' ` +
    "or '.', starting and ending with a letter or digit"
  );
}

/**
 * A "__proto__" key of parsed JSON is an own key, but the record would drop it and
 * then call the selector empty: it is named before the record sees it.
 */
const noPrototypeKey = z.unknown().superRefine((raw, context) => {
  if (typeof raw === 'object' && raw !== null && Object.hasOwn(raw, '__proto__')) {
    const problem = labelKeyProblem('__proto__') ?? 'label key "__proto__" is invalid';
    context.addIssue({ code: 'custom', message: problem, path: ['__proto__'] });
  }
});

const labelRecord = z
  .record(z.string(), z.string({ error: 'each label value must be a string' }), {
    error: 'match_labels must be an object of label keys and values',
  })
  .superRefine((labels, context) => {
    const entries = Object.entries(labels);
    // An empty selector would match every pod of the namespace: refused on purpose.
    if (entries.length === 0) {
      context.addIssue({ code: 'custom', message: 'match_labels must name at least one label' });
    }
    if (entries.length > MAX_POLICY_LABELS) {
      context.addIssue({
        code: 'custom',
        message: `match_labels may name at most ${MAX_POLICY_LABELS} labels`,
      });
    }
    for (const [key, value] of entries) {
      const problem = labelKeyProblem(key) ?? labelValueProblem(key, value);
      if (problem !== null) context.addIssue({ code: 'custom', message: problem, path: [key] });
    }
  });

const matchLabels = noPrototypeKey.pipe(labelRecord);

const selector = z.strictObject(
  { match_labels: matchLabels },
  {
    error: (issue) => unknownFieldMessage(issue) ?? 'selector must be an object with match_labels',
  },
);

const seconds = (what: string, max: number) =>
  z
    .int({ error: `${what} must be a whole number of seconds` })
    .min(0, `${what} must not be negative`)
    .max(max, `${what} must be at most ${max} seconds`);

/** A policy as an operator writes it (configuration file or POST /api/v1/policies). */
export const policySchema = z
  .strictObject(
    {
      name: dnsLabel('name'),
      namespace: dnsLabel('namespace'),
      selector,
      metric: z.enum(POLICY_METRICS, { error: 'metric must be "cpu" or "memory"' }),
      /**
       * Measured usage above this counts as hot: a quantity, e.g. "800m" (cpu) or "1Gi"
       * (memory), or a percentage of what the pod's containers request, e.g. "80%".
       */
      threshold: z
        .string({ error: 'threshold must be a string, e.g. "800m", "1Gi" or "80%"' })
        .trim(),
      /** How long usage must stay above the threshold before a migration starts. */
      for_seconds: seconds('for_seconds', MAX_FOR_SECONDS).default(60),
      /** Where hot pods go: the first node of the list that fits the pod. */
      target_nodes: z
        .array(nodeName, { error: 'target_nodes must be a list of node names' })
        .min(1, 'target_nodes must name at least one node')
        .max(MAX_POLICY_TARGETS, `target_nodes may name at most ${MAX_POLICY_TARGETS} nodes`)
        .refine((nodes) => new Set(nodes).size === nodes.length, {
          error: 'target_nodes must not repeat a node',
        }),
      /** Only report what the policy would do; start nothing. */
      dry_run: z.boolean({ error: 'dry_run must be true or false' }).default(false),
      /** After the policy starts a migration, how long it starts no other. */
      cooldown_seconds: seconds('cooldown_seconds', MAX_COOLDOWN_SECONDS).default(300),
      /** Migrations of this policy unfinished at once, at most. */
      max_in_flight: z
        .int({ error: 'max_in_flight must be a whole number' })
        .min(1, 'max_in_flight must be at least 1')
        .max(MAX_POLICY_IN_FLIGHT, `max_in_flight must be at most ${MAX_POLICY_IN_FLIGHT}`)
        .default(1),
      /** Passed on to the migrations the policy starts. */
      preserve_pv: z.boolean({ error: 'preserve_pv must be true or false' }).default(false),
    },
    { error: (issue) => unknownFieldMessage(issue) },
  )
  .superRefine((policy, context) => {
    const problem = thresholdProblem(policy.metric, policy.threshold);
    if (problem !== null)
      context.addIssue({ code: 'custom', message: problem, path: ['threshold'] });
  });

export type Policy = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** The selector as the Kubernetes API takes it: "k1=v1,k2=v2". */
export function labelSelectorOf(policy: Pick<Policy, 'selector'>): string {
  return Object.entries(policy.selector.match_labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Where a stored policy came from: the file of ASO_POLICIES_FILE belongs to the deployment. */
export type PolicySource = 'api' | 'configuration';

export interface StoredPolicy extends Policy {
  source: PolicySource;
  created_at: string;
  updated_at: string;
}
