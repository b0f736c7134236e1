import { MAX_POLICY_BYTES } from '../routes/policies.ts';
import type { Operation, Parameter, PathItem, ResponseObject } from './types.ts';

/** What the policy operations need from the document that holds them. */
export interface PolicyPathParts {
  json: (name: 'Policy' | 'PolicyDetails' | 'PolicyList', description: string) => ResponseObject;
  problems: (byStatus: Partial<Record<number, string[]>>) => Record<string, ResponseObject>;
  requestBody: NonNullable<Operation['requestBody']>;
  nameParameter: Parameter['schema'];
  readProblems: Partial<Record<number, string[]>>;
  writeProblems: Partial<Record<number, string[]>>;
  security: Operation['security'];
}

/** The /api/v1/policies routes of the OpenAPI description. */
export function policyPaths(parts: PolicyPathParts): Record<string, PathItem> {
  const { json, problems, readProblems, writeProblems, security } = parts;
  const name: Parameter = {
    name: 'name',
    in: 'path',
    required: true,
    description: 'the policy name (a DNS label)',
    schema: parts.nameParameter,
  };
  const location = { Location: { description: 'the policy', schema: { type: 'string' } } };

  const put: Operation = {
    operationId: 'putPolicy',
    summary: 'Create or replace a load policy',
    description:
      'Pods of `namespace` matching `selector` whose measured `metric` stays above ' +
      '`threshold` for `for_seconds` are migrated to the first of `target_nodes` that fits, ' +
      'at most `max_in_flight` at once and one per `cooldown_seconds`; `dry_run` only ' +
      'reports. Every one of `target_nodes` must exist in the cluster when the policy is ' +
      'stored (422 target-node-not-found otherwise), and at most 100 policies may be ' +
      'stored (422 too-many-policies). A policy replaced or deleted must be in an ' +
      'allowed namespace, before and after (403 namespace-not-allowed). ' +
      'Policies from the policy file cannot be replaced here (409). The body must ' +
      `be JSON of at most ${MAX_POLICY_BYTES} bytes.`,
    tags: ['policies'],
    security,
    requestBody: parts.requestBody,
    responses: {
      200: { ...json('Policy', 'replaced'), headers: location },
      201: { ...json('Policy', 'created'), headers: location },
      ...problems({
        ...writeProblems,
        400: ['invalid-request'],
        403: ['read-only-token', 'namespace-not-allowed'],
        409: ['policy-from-configuration'],
        413: ['payload-too-large'],
        415: ['unsupported-media-type'],
        422: ['target-node-not-found', 'too-many-policies'],
      }),
    },
  };
  const list: Operation = {
    operationId: 'listPolicies',
    summary: 'List the load policies, by name',
    tags: ['policies'],
    security,
    responses: { 200: json('PolicyList', 'the policies'), ...problems(readProblems) },
  };
  const get: Operation = {
    operationId: 'getPolicy',
    summary: 'Read a load policy with its latest evaluations',
    description:
      'Each evaluation lists, per matching pod, the usage seen, since when it has been ' +
      'above the threshold, the decision and why.',
    tags: ['policies'],
    security,
    parameters: [name],
    responses: {
      200: json('PolicyDetails', 'the policy'),
      ...problems({ ...readProblems, 400: ['invalid-request'], 404: ['policy-not-found'] }),
    },
  };
  const remove: Operation = {
    operationId: 'deletePolicy',
    summary: 'Delete a load policy and its evaluations',
    description:
      'Migrations it started carry on. Policies from the policy file cannot be deleted here.',
    tags: ['policies'],
    security,
    parameters: [name],
    responses: {
      200: json('Policy', 'deleted; the policy as it was'),
      ...problems({
        ...writeProblems,
        400: ['invalid-request'],
        403: ['read-only-token', 'namespace-not-allowed'],
        404: ['policy-not-found'],
        409: ['policy-from-configuration'],
      }),
    },
  };

  return {
    '/api/v1/policies': { post: put, get: list },
    '/api/v1/policies/{name}': { get, delete: remove },
  };
}
