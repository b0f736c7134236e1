import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createLogger,
  createMetricsRegistry,
  createRedis,
  MigrationStore,
  StageQueues,
  type MigrationRecord,
} from '@aso/shared';
import { plannerOverPods } from '../../../test/support/in-process-api.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { loadApiTokens } from './api-tokens.ts';
import { createApp } from './app.ts';

const valid = {
  pod_name: 'tf-train-0',
  source_node: 'worker-1',
  target_node: 'worker-2',
  preserve_pv: true,
};

const TOKEN = 'app-integration-test-token';
const tokens = loadApiTokens({ ASO_API_TOKENS: `read-write:${TOKEN}` });

let redis: TestRedis;
let queues: StageQueues;
let app: ReturnType<typeof createApp>;

/**
 * The real plan builder over pods and nodes held in memory: the gateway's routes are
 * tested here; planning against a cluster has its own end-to-end tests.
 */
function plannerOver(pods: string[]) {
  return plannerOverPods((name) => pods.includes(name));
}

beforeEach(() => {
  redis = testRedis();
  queues = new StageQueues(createRedis(redis.url, 'producer', 'test:queues'), redis.prefix);
  app = createApp({
    store: new MigrationStore(createRedis(redis.url, 'producer', 'test:store'), redis.prefix),
    queues,
    planner: plannerOver(['tf-train-0', 'other']),
    logger: createLogger('api-test', 'silent'),
    registry: createMetricsRegistry('api-test'),
    checks: { redis: () => Promise.resolve() },
    tokens,
  });
});

afterEach(async () => {
  await queues.close();
  await redis.cleanup();
});

/** A request with the test's read-write token; the access rules have tests of their own. */
function call(
  target: ReturnType<typeof createApp>,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
) {
  return target.request(path, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...init.headers },
  });
}

function post(body: unknown) {
  return call(app, '/api/v1/migrations', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /api/v1/migrations', () => {
  it('accepts a valid request once it is queued', async () => {
    const response = await post(valid);
    const body = (await response.json()) as MigrationRecord & { location: string };

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/api/v1/migrations/${body.migration_id}`);
    expect(body).toMatchObject({
      status: 'pending',
      request: { ...valid, pod_namespace: 'default', timeout: 600 },
    });

    const job = await queues.queue('capture').getJob(body.migration_id);
    expect(job?.data).toEqual({ migrationId: body.migration_id });
  });

  it('fills in the source node from the pre-flight when the request names none', async () => {
    const { source_node: _omitted, ...withoutSource } = valid;
    const dryRun = await post({ ...withoutSource, dry_run: true });
    const response = await post(withoutSource);
    const body = (await response.json()) as MigrationRecord;

    expect(dryRun.status).toBe(200);
    expect(await dryRun.json()).toMatchObject({ request: { source_node: 'worker-1' } });
    expect(response.status).toBe(202);
    expect(body.request.source_node).toBe('worker-1');
    const stored = await call(app, `/api/v1/migrations/${body.migration_id}`);
    expect(((await stored.json()) as MigrationRecord).request.source_node).toBe('worker-1');
  });

  it('answers a problem document naming each invalid field', async () => {
    const response = await post({
      ...valid,
      pod_name: 'Not_Valid',
      timeout: 99999,
      target_node: 'worker-1',
    });
    const problem = (await response.json()) as { code: string; errors: { field: string }[] };

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(problem.code).toBe('invalid-request');
    expect(problem.errors.map((e) => e.field).sort()).toEqual([
      'pod_name',
      'target_node',
      'timeout',
    ]);
  });

  it.each([
    ['malformed JSON', '{"pod_name":', 'body'],
    ['a JSON array', '[]', 'request body'],
    ['an empty body', '', 'body'],
  ])('refuses %s', async (_what, body, field) => {
    const response = await post(body);
    const problem = (await response.json()) as { errors: { field: string }[]; request_id: string };

    expect(response.status).toBe(400);
    expect(problem.errors[0]?.field).toBe(field);
    expect(problem.request_id).toBe(response.headers.get('x-request-id'));
  });

  it('refuses a body that is not JSON, or too large, before reading it', async () => {
    const text = await call(app, '/api/v1/migrations', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(valid),
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { code: string }).code).toBe('unsupported-media-type');

    const huge = await post({ ...valid, padding: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe('payload-too-large');
  });

  it('answers 503 and keeps no record when Redis cannot be reached', async () => {
    const unreachable = 'redis://127.0.0.1:1';
    const store = new MigrationStore(
      createRedis(unreachable, 'producer', 'test:down'),
      redis.prefix,
    );
    const downQueues = new StageQueues(
      createRedis(unreachable, 'producer', 'test:down'),
      redis.prefix,
    );
    const down = createApp({
      store,
      queues: downQueues,
      planner: plannerOver(['tf-train-0']),
      logger: createLogger('api-test', 'silent'),
      registry: createMetricsRegistry('api-test'),
      checks: {},
      tokens,
    });

    const response = await call(down, '/api/v1/migrations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(valid),
    });
    const problem = (await response.json()) as { code: string };
    const reads = await Promise.all(
      ['/api/v1/migrations', `/api/v1/migrations/${randomUUID()}`, '/api/v1/metrics'].map((path) =>
        Promise.resolve(call(down, path)),
      ),
    );
    await downQueues.close();

    expect(response.status).toBe(503);
    expect(problem.code).toBe('queue-unavailable');
    expect(reads.map((r) => r.status)).toEqual([503, 503, 503]);
  });
});

describe('pre-flight', () => {
  it('answers a dry run with the plan and stores nothing', async () => {
    const response = await post({ ...valid, dry_run: true });
    const body = (await response.json()) as {
      dry_run: boolean;
      plan: { kept_containers: string[] };
    };

    expect(response.status).toBe(200);
    expect(body.dry_run).toBe(true);
    expect(body.plan.kept_containers).toEqual(['main']);
    const list = (await (await call(app, '/api/v1/migrations')).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
  });

  it('refuses at once what the pre-flight refuses, and queues nothing', async () => {
    const response = await post({ ...valid, pod_name: 'ghost' });
    const problem = (await response.json()) as { code: string; detail: string };

    expect(response.status).toBe(404);
    expect(problem).toMatchObject({
      code: 'pod-not-found',
      detail: 'pod default/ghost does not exist',
    });
    expect(await queues.queue('capture').getJobCounts()).toMatchObject({ waiting: 0 });
  });

  it('refuses a second migration of a pod while the first is in progress, naming it', async () => {
    const first = (await (await post(valid)).json()) as MigrationRecord;
    const second = await post(valid);
    const problem = (await second.json()) as { code: string; migration_id: string };

    expect(second.status).toBe(409);
    expect(problem).toMatchObject({
      code: 'migration-in-progress',
      migration_id: first.migration_id,
    });
    expect((await post({ ...valid, pod_name: 'other' })).status).toBe(202);

    const dry = (await (await post({ ...valid, dry_run: true })).json()) as {
      plan: { warnings: string[] };
    };
    expect(dry.plan.warnings.join('\n')).toContain(
      `migration ${first.migration_id} of this pod is in progress`,
    );
  });
});

describe('GET /api/v1/migrations', () => {
  it('returns a migration by id, and a problem for an unknown or malformed id', async () => {
    const created = (await (await post(valid)).json()) as MigrationRecord;

    const found = await call(app, `/api/v1/migrations/${created.migration_id}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as MigrationRecord).migration_id).toBe(created.migration_id);

    const unknown = await call(app, `/api/v1/migrations/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('migration-not-found');

    const malformed = await call(app, '/api/v1/migrations/not-an-id');
    expect(malformed.status).toBe(400);
  });

  it('lists newest first, within the limit', async () => {
    const first = (await (await post(valid)).json()) as MigrationRecord;
    const second = (await (await post({ ...valid, pod_name: 'other' })).json()) as MigrationRecord;

    const list = (await (await call(app, '/api/v1/migrations?limit=1')).json()) as {
      items: MigrationRecord[];
    };
    expect(list.items.map((r) => r.migration_id)).toEqual([second.migration_id]);

    const all = (await (await call(app, '/api/v1/migrations')).json()) as {
      items: MigrationRecord[];
    };
    expect(all.items.map((r) => r.migration_id)).toEqual([second.migration_id, first.migration_id]);

    expect((await call(app, '/api/v1/migrations?limit=0')).status).toBe(400);
  });

  it('reports KPIs', async () => {
    await post(valid);
    const kpis = (await (await call(app, '/api/v1/metrics')).json()) as {
      total: number;
      in_flight: number;
    };
    expect(kpis).toMatchObject({ total: 1, in_flight: 1, succeeded: 0, failed: 0 });
  });
});

describe('operations', () => {
  it('answers health, readiness, Prometheus metrics and unknown routes', async () => {
    expect(await (await app.request('/health')).json()).toEqual({ status: 'ok' });
    expect((await app.request('/ready')).status).toBe(200);
    expect(await (await call(app, '/metrics')).text()).toMatch(/process_cpu_user_seconds_total/);

    const missing = await call(app, '/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
  });
});
