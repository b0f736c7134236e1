import { z } from 'zod';

import {
  ANY_NODE,
  batchRequestSchema,
  DEFAULT_BATCH_IN_FLIGHT,
  drainRequestSchema,
  MAX_BATCH_IN_FLIGHT,
  MAX_BATCH_MEMBERS,
} from '../batches/batch-request.ts';
import {
  batchListQuerySchema,
  MAX_BATCH_LIST_LIMIT,
  MAX_BATCH_REQUEST_BYTES,
} from '../routes/batches.ts';
import {
  acceptedBatchSchema,
  batchListSchema,
  batchViewSchema,
  cancelledBatchSchema,
  cancelledDrainSchema,
} from './batch-schemas.ts';
import { inputSchema } from './schemas.ts';
import type { JsonSchema, Operation, Parameter, PathItem, ResponseObject } from './types.ts';

type Problems = Partial<Record<number, string[]>>;

/** What the batch and drain operations need from the document that holds them. */
export interface BatchPathParts {
  problems: (byStatus: Problems) => Record<string, ResponseObject>;
  readProblems: Problems;
  writeProblems: Problems;
  security: Operation['security'];
}

/**
 * The /api/v1/batches and /api/v1/drains routes of the OpenAPI description. The
 * schemas are inlined rather than registered as components, so that these routes
 * are described in this file alone.
 */
export function batchPaths(parts: BatchPathParts): Record<string, PathItem> {
  return {
    '/api/v1/batches': { post: submitBatch(parts), get: list(parts, 'batch') },
    '/api/v1/batches/{id}': { get: read(parts, 'batch'), delete: cancel(parts, 'batch') },
    '/api/v1/drains': { post: submitDrain(parts), get: list(parts, 'drain') },
    '/api/v1/drains/{id}': { get: read(parts, 'drain'), delete: cancel(parts, 'drain') },
  };
}

const MEMBER_RULES =
  'Each member is a migration like a single POST /api/v1/migrations: the same pre-flight, ' +
  'one migration per pod, caps in flight, deadline and rollback. Its source node is the ' +
  `node the pod runs on. target_node "${ANY_NODE}" (the default) chooses per member the Ready, ` +
  "schedulable node other than its own that honours the pod's nodeSelector, required node " +
  'affinity and tolerations, fits its requests, and keeps the most free allocatable ' +
  'afterwards, counting the members already placed. At most max_in_flight members ' +
  `(default ${DEFAULT_BATCH_IN_FLIGHT}, 1 to ${MAX_BATCH_IN_FLIGHT}) work at once; the others ` +
  'wait (status waiting, the message names the batch cap). A member that cannot start is ' +
  'listed with `refused` (the pre-flight problem code and detail); the others go ahead.';

function submitBatch(parts: BatchPathParts): Operation {
  return {
    operationId: 'submitBatch',
    summary: 'Migrate several pods: a list, or a label selector in a namespace',
    description:
      `Give \`pods\` (at most ${MAX_BATCH_MEMBERS}), or \`match_labels\` and/or \`selector\` ` +
      '(Kubernetes label selector syntax) with `namespace`. ' +
      MEMBER_RULES +
      ' When every member is refused nothing is stored: the answer is 422 batch-all-refused, ' +
      'with each pod and its reason in `errors`.' +
      ` The body must be JSON of at most ${MAX_BATCH_REQUEST_BYTES} bytes.`,
    tags: ['batches'],
    security: parts.security,
    requestBody: body(batchRequestSchema),
    responses: {
      202: accepted('the batch is stored and its members started or refused', 'batch'),
      ...parts.problems({
        ...parts.writeProblems,
        400: ['invalid-request'],
        403: ['read-only-token', 'namespace-not-allowed'],
        413: ['payload-too-large'],
        415: ['unsupported-media-type'],
        422: ['selector-matched-nothing', 'batch-too-large', 'batch-all-refused'],
        502: ['kubernetes-request-rejected'],
        503: ['queue-unavailable', 'kubernetes-unavailable'],
      }),
    },
  };
}

function submitDrain(parts: BatchPathParts): Operation {
  return {
    operationId: 'submitDrain',
    summary: 'Move every movable pod off a node, cordoning it first',
    description:
      'Cordons the node (spec.unschedulable; a node already cordoned is left so), then moves ' +
      'its pods as the members of a batch. It leaves, and lists in `drain.left` with the ' +
      'reason, DaemonSet pods, static (mirror) pods, pods already terminating or finished, ' +
      'pods of namespaces outside the allow-list and pods the pre-flight refuses (with its ' +
      'code). Originals are evicted through the Eviction API unless `force`, so ' +
      'PodDisruptionBudgets hold: a refused eviction is retried until the deadline, then ' +
      'rolled back, never turned into a delete. ' +
      MEMBER_RULES +
      ' A named target_node is checked before the cordon: the drained node itself is 400, ' +
      'a node that does not exist, is cordoned or not Ready is 422. When the node has movable ' +
      'pods and none of them can start, nothing is stored and the node is not left cordoned: ' +
      'the answer is 422 drain-nothing-started with each pod and its reason in `errors`. A ' +
      'drain that leaves movable pods behind (counted in `drain.not_moved`) ends ' +
      'partially-failed, never completed. One drain per node at a time.',
    tags: ['batches'],
    security: parts.security,
    requestBody: body(drainRequestSchema),
    responses: {
      202: accepted('the node is cordoned and its pods started or left', 'drain'),
      ...parts.problems({
        ...parts.writeProblems,
        400: ['invalid-request'],
        404: ['node-not-found'],
        409: ['drain-in-progress'],
        422: [
          'target-node-not-found',
          'target-node-cordoned',
          'target-node-not-ready',
          'drain-nothing-started',
        ],
        413: ['payload-too-large'],
        415: ['unsupported-media-type'],
        502: ['kubernetes-request-rejected'],
        503: ['queue-unavailable', 'kubernetes-unavailable'],
      }),
    },
  };
}

function list(parts: BatchPathParts, kind: 'batch' | 'drain'): Operation {
  return {
    operationId: kind === 'batch' ? 'listBatches' : 'listDrains',
    summary: `List ${plural(kind)}, newest first, with their members`,
    description:
      `The newest \`limit\` ${plural(kind)} (at most ${MAX_BATCH_LIST_LIMIT}); ` +
      'a page is full whenever that many exist.',
    tags: ['batches'],
    security: parts.security,
    parameters: [
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'how many at most',
        schema: inputSchema(batchListQuerySchema.shape.limit),
      },
    ],
    responses: {
      200: answer(batchListSchema, `the ${plural(kind)}`),
      ...parts.problems({ ...parts.readProblems, 400: ['invalid-request'] }),
    },
  };
}

function plural(kind: 'batch' | 'drain'): string {
  return kind === 'batch' ? 'batches' : 'drains';
}

function read(parts: BatchPathParts, kind: 'batch' | 'drain'): Operation {
  return {
    operationId: kind === 'batch' ? 'getBatch' : 'getDrain',
    summary: `Read a ${kind}: each member's current status and a summary by status`,
    tags: ['batches'],
    security: parts.security,
    parameters: [idParameter(kind)],
    responses: {
      200: answer(batchViewSchema, `the ${kind}`),
      ...parts.problems({
        ...parts.readProblems,
        400: ['invalid-request'],
        404: [`${kind}-not-found`],
      }),
    },
  };
}

function cancel(parts: BatchPathParts, kind: 'batch' | 'drain'): Operation {
  const drain = kind === 'drain';
  return {
    operationId: drain ? 'cancelDrain' : 'cancelBatch',
    summary: drain
      ? 'Cancel a drain: its members not yet switched, and uncordon the node it cordoned'
      : 'Cancel every member of a batch not yet switched',
    description:
      'Each unfinished member is cancelled as by DELETE /api/v1/migrations/{id}; `cancels` ' +
      'says per member what happened. Members past their switch finish by themselves.' +
      (drain ? ' The node is uncordoned only if this drain cordoned it.' : ''),
    tags: ['batches'],
    security: parts.security,
    parameters: [idParameter(kind)],
    responses: {
      200: answer(drain ? cancelledDrainSchema : cancelledBatchSchema, 'cancel requested'),
      ...parts.problems({
        ...parts.writeProblems,
        400: ['invalid-request'],
        404: [`${kind}-not-found`],
        502: ['kubernetes-request-rejected'],
        503: ['queue-unavailable', 'kubernetes-unavailable'],
      }),
    },
  };
}

function idParameter(kind: 'batch' | 'drain'): Parameter {
  return {
    name: 'id',
    in: 'path',
    required: true,
    description: `the ${kind} id (a UUID)`,
    schema: { type: 'string', format: 'uuid' },
  };
}

function accepted(description: string, kind: 'batch' | 'drain'): ResponseObject {
  return {
    ...answer(acceptedBatchSchema, description),
    headers: { Location: { description: `the ${kind}`, schema: { type: 'string' } } },
  };
}

function answer(schema: z.ZodType, description: string): ResponseObject {
  return { description, content: { 'application/json': { schema: outputSchema(schema) } } };
}

function body(schema: z.ZodType): NonNullable<Operation['requestBody']> {
  return { required: true, content: { 'application/json': { schema: inputSchema(schema) } } };
}

function outputSchema(schema: z.ZodType): JsonSchema {
  return bare(z.toJSONSchema(schema, { io: 'output' }));
}

/** An embedded schema carries neither its own dialect nor an id: the document sets both. */
function bare(schema: object): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
  return rest;
}
