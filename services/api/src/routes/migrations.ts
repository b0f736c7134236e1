import { createHash, randomUUID } from 'node:crypto';

import { Hono, type Context } from 'hono';

import {
  createMigrationMetrics,
  enqueueMigration,
  fromStore,
  migrationLogFields,
  migrationRequestSchema,
  newMigrationRecord,
  planSubmission,
  resolveSourceNode,
  type IdempotencyClaim,
  type MigrationPlan,
  type MigrationRecord,
  type MigrationRequestInput,
} from '@aso/shared';

import type { ApiDeps, ApiEnv } from '../deps.ts';
import { jsonBodyLimit, parseJsonBody, requireJsonBody } from '../json-body.ts';
import { computeKpis } from '../kpis.ts';
import { requireAllowedNamespace } from '../namespace-policy.ts';
import { logAbout, requestLog } from '../request-log.ts';
import { idempotencyKeySchema, idSchema, listQuerySchema } from '../request-schemas.ts';
import { validate } from '../validation.ts';

/** A migration request is a few hundred bytes; anything far larger is refused unread. */
export const MAX_REQUEST_BYTES = 16 * 1024;

export function migrationRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? randomUUID;
  const metrics = createMigrationMetrics(deps.registry);

  routes.post(
    '/migrations',
    jsonBodyLimit(MAX_REQUEST_BYTES, 'a migration request'),
    async function submitMigration(c) {
      requireJsonBody(c);
      const request = validate(migrationRequestSchema, await parseJsonBody(c), 'request body');
      requireAllowedNamespace(deps.allowedNamespaces, request.pod_namespace);
      const idempotency = idempotencyClaim(c, request);

      // A repeated request is answered before the pre-flight, which the first one's
      // migration may have made untrue (the pod has moved).
      if (idempotency && !request.dry_run) {
        const earlier = await fromStore(() => deps.store.findIdempotent(idempotency));
        if (earlier) {
          aboutMigration(c, earlier);
          return accepted(c, earlier, true);
        }
      }

      // The pre-flight refuses what cannot succeed before anything is stored or touched.
      const { plan } = await planSubmission(deps, request);
      // A request without source_node moves the pod from where the pre-flight found it.
      const resolved = resolveSourceNode(request, plan.source_node);
      if (request.dry_run) {
        return c.json({
          dry_run: true,
          request: resolved,
          plan: await withLockWarning(deps, plan),
        });
      }

      const created = await enqueueMigration(
        deps,
        newMigrationRecord(newId(), resolved, now()),
        idempotency,
      );
      aboutMigration(c, created.record);
      if (!created.replayed) {
        metrics.countStarted();
        requestLog(c).info('migration accepted');
      }
      return accepted(c, created.record, created.replayed);
    },
  );

  routes.delete('/migrations/:id', async function cancelMigration(c) {
    const id = validate(idSchema, c.req.param('id'), 'id');
    // Named before the store answers, so that a refusal (404, 409) is logged with it.
    logAbout(c, { migrationId: id });
    const record = await fromStore(() => deps.store.requestCancel(id, now()));

    const ended = record.status === 'cancelled';
    // Ended here, before any stage began: no worker will count it.
    if (ended) metrics.countFinished(record);
    aboutMigration(c, record);
    requestLog(c).info({ ended }, ended ? 'migration cancelled' : 'migration cancel requested');
    // 202 while the running stage still has to roll back; 200 when it is over.
    return c.json(record, ended ? 200 : 202);
  });

  routes.get('/migrations', async function listMigrations(c) {
    const { limit } = validate(listQuerySchema, c.req.query(), 'query');
    const items = await fromStore(() => deps.store.list(limit));
    return c.json({ items, count: items.length, limit });
  });

  routes.get('/migrations/:id', async function getMigration(c) {
    const id = validate(idSchema, c.req.param('id'), 'id');
    logAbout(c, { migrationId: id });
    const record = await fromStore(() => deps.store.require(id));
    aboutMigration(c, record);
    return c.json(record);
  });

  routes.get('/metrics', async function migrationKpis(c) {
    return c.json(computeKpis(await fromStore(() => deps.store.stats())));
  });

  return routes;
}

/**
 * From here on the request's log lines, the closing request line included, name
 * the migration: its id, current stage, namespace and pod.
 */
function aboutMigration(c: Context<ApiEnv>, record: MigrationRecord): void {
  logAbout(c, migrationLogFields(record));
}

/** A dry run tells what the real request would meet: a migration already in progress. */
async function withLockWarning(deps: ApiDeps, plan: MigrationPlan): Promise<MigrationPlan> {
  const active = await fromStore(() =>
    deps.store.activeMigration(plan.pod.namespace, plan.pod.name),
  );
  if (!active) return plan;

  const warning =
    `migration ${active.migration_id} of this pod is in progress; ` +
    'the request would be refused with 409 until it ends';
  return { ...plan, warnings: [...plan.warnings, warning] };
}

function accepted(c: Context<ApiEnv>, record: MigrationRecord, replayed: boolean): Response {
  const location = `/api/v1/migrations/${record.migration_id}`;
  const headers: Record<string, string> = { Location: location };
  if (replayed) headers['Idempotent-Replayed'] = 'true';
  return c.json({ ...record, location }, 202, headers);
}

/**
 * The client's Idempotency-Key with a digest of the validated request: the same
 * key with another request is a client error, not a replay.
 */
function idempotencyClaim(
  c: Context<ApiEnv>,
  request: MigrationRequestInput,
): IdempotencyClaim | undefined {
  const header = c.req.header('idempotency-key');
  if (header === undefined) return undefined;

  const key = validate(idempotencyKeySchema, header, 'Idempotency-Key header');
  const fingerprint = createHash('sha256').update(JSON.stringify(request)).digest('hex');
  // Keys are the caller's own: two clients that pick the same key do not collide.
  return { key: `${c.get('token').id}:${key}`, fingerprint };
}
