import { z } from 'zod';

import {
  migrationOptionFields,
  namespaceNameSchema,
  objectNameSchema,
  unknownFieldMessage,
  ValidationError,
} from '@aso/shared';

import {
  formatLabelSelector,
  matchLabelsRequirements,
  parseLabelSelector,
  type LabelRequirement,
} from './label-selector.ts';

/** The most members one batch or drain may hold: each is planned while the client waits. */
export const MAX_BATCH_MEMBERS = 200;
/** Bounds of a batch's cap on members in flight at once. */
export const MAX_BATCH_IN_FLIGHT = 20;
export const DEFAULT_BATCH_IN_FLIGHT = 2;
/** The target_node that asks for any node that fits, chosen per member. */
export const ANY_NODE = 'any';

/** The options every member of a batch or drain shares with a single migration. */
const memberOptions = {
  ...migrationOptionFields,
  timeout: migrationOptionFields.timeout.describe(
    'seconds each member may take, as for a single migration',
  ),
  max_in_flight: z
    .int({ error: 'max_in_flight must be a whole number' })
    .min(1, 'max_in_flight must be at least 1')
    .max(MAX_BATCH_IN_FLIGHT, `max_in_flight must be at most ${MAX_BATCH_IN_FLIGHT}`)
    .default(DEFAULT_BATCH_IN_FLIGHT)
    .describe('members working on the cluster at once; the others wait (status waiting)'),
  target_node: z
    .union([z.literal(ANY_NODE), objectNameSchema('target_node')])
    .default(ANY_NODE)
    .describe(
      `a node name, or "${ANY_NODE}" (the default): per member, the Ready schedulable node ` +
        'other than its own that fits it and keeps the most free allocatable',
    ),
};

const podRef = z.strictObject(
  {
    name: objectNameSchema('pods[].name'),
    namespace: namespaceNameSchema('pods[].namespace').optional(),
  },
  { error: (issue) => unknownFieldMessage(issue) },
);

export const batchRequestSchema = z
  .strictObject(
    {
      pods: z
        .array(podRef, { error: 'pods must be a list of {name, namespace}' })
        .min(1, 'pods must name at least one pod')
        .max(MAX_BATCH_MEMBERS, `pods may name at most ${MAX_BATCH_MEMBERS} pods`)
        .optional()
        .describe('the pods to move; or give match_labels and/or selector instead'),
      namespace: namespaceNameSchema('namespace')
        .default('default')
        .describe('the namespace of the selector, and of listed pods that name none'),
      match_labels: z
        .record(z.string(), z.string(), { error: 'match_labels must map label keys to values' })
        .optional()
        .describe('pods carrying every one of these labels'),
      selector: z
        .string({ error: 'selector must be a string' })
        .max(1024, 'selector must be at most 1024 characters')
        .optional()
        .describe('a Kubernetes label selector, e.g. "app=web,tier in (a,b),!canary"'),
      ...memberOptions,
    },
    { error: (issue) => unknownFieldMessage(issue) },
  )
  .refine((request) => (request.pods !== undefined) !== isSelector(request), {
    path: ['pods'],
    error: 'give either pods or a label selector (match_labels and/or selector), not both',
  });

export type BatchRequest = z.output<typeof batchRequestSchema>;

export const drainRequestSchema = z.strictObject(
  {
    node: objectNameSchema('node').describe('the node to empty; it is cordoned first'),
    ...memberOptions,
  },
  { error: (issue) => unknownFieldMessage(issue) },
);

export type DrainRequest = z.output<typeof drainRequestSchema>;

/** What a batch selects its members by: named pods, or a selector in one namespace. */
export type MemberSelection =
  | { kind: 'pods'; pods: { namespace: string; name: string }[] }
  | { kind: 'selector'; namespace: string; requirements: LabelRequirement[]; selector: string };

/**
 * The members a validated request names. Throws a ValidationError for a malformed
 * selector or a pod named twice.
 */
export function memberSelection(request: BatchRequest): MemberSelection {
  if (request.pods !== undefined) {
    const pods = request.pods.map((pod) => ({
      namespace: pod.namespace ?? request.namespace,
      name: pod.name,
    }));
    const seen = new Set<string>();
    for (const pod of pods) {
      const ref = `${pod.namespace}/${pod.name}`;
      if (seen.has(ref)) {
        const message = `pod ${ref} is named twice; name each pod once`;
        throw new ValidationError(`the request body is invalid: ${message}`, [
          { field: 'pods', message },
        ]);
      }
      seen.add(ref);
    }
    return { kind: 'pods', pods };
  }

  const requirements = [
    ...matchLabelsRequirements(request.match_labels ?? {}),
    ...(request.selector === undefined ? [] : parseLabelSelector(request.selector)),
  ];
  if (requirements.length === 0) {
    const message = 'the label selector is empty: it would select every pod of the namespace';
    throw new ValidationError(`the request body is invalid: ${message}`, [
      { field: 'match_labels', message },
    ]);
  }
  return {
    kind: 'selector',
    namespace: request.namespace,
    requirements,
    selector: formatLabelSelector(requirements),
  };
}

function isSelector(request: { match_labels?: unknown; selector?: unknown }): boolean {
  return request.match_labels !== undefined || request.selector !== undefined;
}
