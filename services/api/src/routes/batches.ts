import type { Context } from 'hono';
import { Hono } from 'hono';
import { z } from 'zod';

import { createMigrationMetrics, fromStore } from '@aso/shared';

import { BatchNotFoundError, DrainNotFoundError } from '../batches/batch-errors.ts';
import { batchRequestSchema, drainRequestSchema } from '../batches/batch-request.ts';
import { cancelBatch, createBatch, readBatch, type BatchDeps } from '../batches/batch-service.ts';
import type { BatchRecord, BatchStore } from '../batches/batch-store.ts';
import type { BatchView } from '../batches/batch-view.ts';
import type { ClusterView } from '../batches/cluster-view.ts';
import { cancelDrain, createDrain } from '../batches/drain-service.ts';
import type { ApiDeps, ApiEnv } from '../deps.ts';
import { requestLog } from '../request-log.ts';
import { jsonBodyLimit, parseJsonBody, requireJsonBody } from '../json-body.ts';
import { validate } from '../validation.ts';

/** 200 pods named with their namespaces fit comfortably; anything far larger is refused unread. */
export const MAX_BATCH_REQUEST_BYTES = 64 * 1024;
/** The largest page of the batch and drain lists: each batch is read with its members. */
export const MAX_BATCH_LIST_LIMIT = 100;

const batchIdSchema = z.uuid({ error: 'the batch id must be a UUID' });
const drainIdSchema = z.uuid({ error: 'the drain id must be a UUID' });

export const batchListQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(MAX_BATCH_LIST_LIMIT, `limit must be at most ${MAX_BATCH_LIST_LIMIT}`)
    .default(20),
});

/** Batches of migrations and node drains: /api/v1/batches and /api/v1/drains. */
export function batchRoutes(
  deps: ApiDeps,
  cluster: ClusterView,
  batches: BatchStore,
): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const metrics = createMigrationMetrics(deps.registry);
  const batchDeps = (c: Context<ApiEnv>): BatchDeps => ({
    ...deps,
    cluster,
    batches,
    metrics,
    log: requestLog(c),
  });

  routes.post(
    '/batches',
    jsonBodyLimit(MAX_BATCH_REQUEST_BYTES, 'a batch or drain request'),
    async function submitBatch(c) {
      requireJsonBody(c);
      const request = validate(batchRequestSchema, await parseJsonBody(c), 'request body');
      const view = await createBatch(batchDeps(c), request);
      logStarted(c, view, 'batch started');
      return accepted(c, view, `/api/v1/batches/${view.batch_id}`);
    },
  );

  routes.get('/batches', async function listBatches(c) {
    const { limit } = validate(batchListQuerySchema, c.req.query(), 'query');
    return c.json(await listOf(batchDeps(c), limit, 'batch'));
  });

  routes.get('/batches/:id', async function getBatch(c) {
    const deps = batchDeps(c);
    const batch = await requireBatch(deps, validate(batchIdSchema, c.req.param('id'), 'id'));
    return c.json(await readBatch(deps, batch));
  });

  routes.delete('/batches/:id', async function cancelWholeBatch(c) {
    const deps = batchDeps(c);
    const batch = await requireBatch(deps, validate(batchIdSchema, c.req.param('id'), 'id'));
    const { view, cancels } = await cancelBatch(deps, batch);
    requestLog(c).info({ batchId: batch.batch_id, cancels: cancels.length }, 'batch cancelled');
    return c.json({ ...view, cancels });
  });

  routes.post(
    '/drains',
    jsonBodyLimit(MAX_BATCH_REQUEST_BYTES, 'a batch or drain request'),
    async function submitDrain(c) {
      requireJsonBody(c);
      const request = validate(drainRequestSchema, await parseJsonBody(c), 'request body');
      const view = await createDrain(batchDeps(c), request);
      logStarted(c, view, 'drain started');
      return accepted(c, view, `/api/v1/drains/${view.batch_id}`);
    },
  );

  routes.get('/drains', async function listDrains(c) {
    const { limit } = validate(batchListQuerySchema, c.req.query(), 'query');
    return c.json(await listOf(batchDeps(c), limit, 'drain'));
  });

  routes.get('/drains/:id', async function getDrain(c) {
    const deps = batchDeps(c);
    const drain = await requireDrain(deps, validate(drainIdSchema, c.req.param('id'), 'id'));
    return c.json(await readBatch(deps, drain));
  });

  routes.delete('/drains/:id', async function cancelWholeDrain(c) {
    const deps = batchDeps(c);
    const drain = await requireDrain(deps, validate(drainIdSchema, c.req.param('id'), 'id'));
    const { view, cancels, uncordoned } = await cancelDrain(deps, drain);
    requestLog(c).info({ batchId: drain.batch_id, uncordoned }, 'drain cancelled');
    return c.json({ ...view, cancels, uncordoned });
  });

  return routes;
}

async function requireBatch(deps: BatchDeps, id: string): Promise<BatchRecord> {
  const batch = await fromStore(() => deps.batches.get(id));
  if (batch === null) throw new BatchNotFoundError(id);
  return batch;
}

async function requireDrain(deps: BatchDeps, id: string): Promise<BatchRecord> {
  const drain = await fromStore(() => deps.batches.get(id));
  if (drain?.kind !== 'drain') throw new DrainNotFoundError(id);
  return drain;
}

async function listOf(
  deps: BatchDeps,
  limit: number,
  kind: BatchRecord['kind'],
): Promise<{ items: BatchView[]; count: number; limit: number }> {
  const records = await fromStore(() => deps.batches.list(kind, limit));
  const items = await Promise.all(records.map((record) => readBatch(deps, record)));
  return { items, count: items.length, limit };
}

function accepted(c: Context<ApiEnv>, view: BatchView, location: string): Response {
  return c.json({ ...view, location }, 202, { Location: location });
}

function logStarted(c: Context<ApiEnv>, view: BatchView, message: string): void {
  const { members, by_status: byStatus } = view.summary;
  requestLog(c).info({ batchId: view.batch_id, members, refused: byStatus.refused }, message);
}
