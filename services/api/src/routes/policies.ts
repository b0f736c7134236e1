import { Hono } from 'hono';

import { fromStore, NodeNotFoundError, policySchema, type PolicyStore } from '@aso/shared';

import type { ApiDeps, ApiEnv } from '../deps.ts';
import { requestLog } from '../request-log.ts';
import { jsonBodyLimit, parseJsonBody, requireJsonBody } from '../json-body.ts';
import { requireAllowedNamespace } from '../namespace-policy.ts';
import { validate } from '../validation.ts';

/** A policy is a few hundred bytes; 16 KiB leaves room for long label lists. */
export const MAX_POLICY_BYTES = 16 * 1024;

/** Evaluations shown with a policy, newest first. */
export const POLICY_EVALUATIONS_SHOWN = 10;

const policyName = policySchema.shape.name;

/**
 * Load policies: create or replace, list, read with their latest evaluations, and
 * remove. The metrics workers evaluate what is stored here.
 */
export function policyRoutes(deps: ApiDeps, policies: PolicyStore): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const now = deps.now ?? (() => new Date());

  routes.post(
    '/policies',
    jsonBodyLimit(MAX_POLICY_BYTES, 'a policy'),
    async function putPolicy(c) {
      requireJsonBody(c);
      const policy = validate(policySchema, await parseJsonBody(c), 'request body');
      requireAllowedNamespace(deps.allowedNamespaces, policy.namespace);
      // Replacing moves a policy out of its namespace: the old one must be allowed too.
      const existing = await fromStore(() => policies.get(policy.name));
      if (existing) requireAllowedNamespace(deps.allowedNamespaces, existing.namespace);
      await requireTargetNodes(deps, policy.target_nodes);

      const stored = await fromStore(() => policies.put(policy, 'api', now()));
      requestLog(c).info({ policy: policy.name, created: stored.created }, 'policy stored');
      const location = `/api/v1/policies/${policy.name}`;
      return c.json(stored.policy, stored.created ? 201 : 200, { Location: location });
    },
  );

  routes.get('/policies', async function listPolicies(c) {
    const items = await fromStore(() => policies.list());
    return c.json({ items, count: items.length });
  });

  routes.get('/policies/:name', async function getPolicy(c) {
    const name = validate(policyName, c.req.param('name'), 'name');
    const policy = await fromStore(() => policies.require(name));
    const [evaluations, started, lastEvaluation] = await fromStore(() =>
      Promise.all([
        policies.runs(name, POLICY_EVALUATIONS_SHOWN),
        policies.starts(name),
        policies.lastEvaluationAt(),
      ]),
    );
    return c.json({
      ...policy,
      evaluations,
      started_migrations: started,
      last_evaluation_at: lastEvaluation,
    });
  });

  routes.delete('/policies/:name', async function deletePolicy(c) {
    const name = validate(policyName, c.req.param('name'), 'name');
    const existing = await fromStore(() => policies.require(name));
    requireAllowedNamespace(deps.allowedNamespaces, existing.namespace);
    const removed = await fromStore(() => policies.delete(name));
    requestLog(c).info({ policy: name }, 'policy deleted');
    return c.json(removed);
  });

  return routes;
}

/**
 * A policy naming a node that does not exist would never move a pod there: a typo
 * is refused when the policy is stored, as a single migration's target is. Nodes
 * removed later are skipped by the evaluation's choice of target.
 */
async function requireTargetNodes(deps: ApiDeps, nodes: string[]): Promise<void> {
  const cluster = deps.cluster;
  if (cluster === undefined) return;

  const found = await Promise.all(nodes.map((name) => cluster.readNode(name)));
  const missing = nodes.find((_, index) => found[index] === null);
  if (missing !== undefined) throw new NodeNotFoundError(missing);
}
