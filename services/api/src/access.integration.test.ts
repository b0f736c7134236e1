import { Writable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { createLogger, type Logger, type MigrationRequestInput } from '@aso/shared';

import {
  inProcessApi,
  newToken,
  plannerOverFixtures,
  type InProcessApi,
  type InProcessApiOptions,
} from '../../../test/support/in-process-api.ts';

const writer = newToken();
const reader = newToken();
const TOKENS = `read-write:${writer}, read-only:${reader}`;

const valid = {
  pod_name: 'tf-train-0',
  source_node: 'worker-1',
  target_node: 'worker-2',
};

interface ProblemBody {
  status: number;
  code: string;
  detail: string;
}

const started: InProcessApi[] = [];

function api(options: Partial<InProcessApiOptions> = {}): InProcessApi {
  const built = inProcessApi({ tokens: TOKENS, ...options });
  started.push(built);
  return built;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((built) => built.close()));
});

function send(
  target: InProcessApi,
  path: string,
  token: string | undefined,
  init: { method?: string; body?: unknown } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  return target.app.request(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function problemOf(response: Response): Promise<ProblemBody> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as ProblemBody;
  expect(body.status).toBe(response.status);
  return body;
}

describe('bearer tokens', () => {
  it('answers 401 with a Bearer challenge without a token or with an unknown one', async () => {
    const gateway = api();

    const missing = await send(gateway, '/api/v1/migrations', undefined);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="aso"');
    expect((await problemOf(missing)).code).toBe('unauthenticated');

    const unknown = await send(gateway, '/api/v1/migrations', newToken());
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe(
      'Bearer realm="aso", error="invalid_token"',
    );

    const basic = await gateway.app.request('/metrics', {
      headers: { authorization: `Basic ${Buffer.from(`x:${writer}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
  });

  it('guards every route but the probes, unknown routes included', async () => {
    const gateway = api();

    for (const path of ['/api/v1/migrations', '/api/v1/metrics', '/metrics', '/admin/unknown']) {
      expect((await send(gateway, path, undefined)).status, path).toBe(401);
    }
    expect((await send(gateway, '/health', undefined)).status).toBe(200);
    expect((await send(gateway, '/ready', undefined)).status).toBe(200);
    expect((await send(gateway, '/metrics', writer)).status).toBe(200);
    expect((await send(gateway, '/admin/unknown', writer)).status).toBe(404);
  });

  it('accepts the scheme in any case, as HTTP defines it', async () => {
    const gateway = api();
    const response = await gateway.app.request('/api/v1/migrations', {
      headers: { authorization: `bearer ${writer}` },
    });
    expect(response.status).toBe(200);
  });

  it('lets a read-only token list and read, and refuses it any write with 403', async () => {
    const gateway = api();
    const created = await send(gateway, '/api/v1/migrations', writer, {
      method: 'POST',
      body: valid,
    });
    expect(created.status).toBe(202);
    const { migration_id: id } = (await created.json()) as { migration_id: string };

    expect((await send(gateway, '/api/v1/migrations', reader)).status).toBe(200);
    expect((await send(gateway, `/api/v1/migrations/${id}`, reader)).status).toBe(200);
    expect((await send(gateway, '/api/v1/metrics', reader)).status).toBe(200);

    const before = await gateway.footprint();
    for (const method of ['POST', 'DELETE', 'PUT', 'PATCH']) {
      const path = method === 'POST' ? '/api/v1/migrations' : `/api/v1/migrations/${id}`;
      const refused = await send(gateway, path, reader, {
        method,
        body: { ...valid, pod_name: 'other' },
      });
      expect(refused.status, method).toBe(403);
      expect((await problemOf(refused)).code).toBe('read-only-token');
    }
    expect(await gateway.footprint()).toEqual(before);
  });
});

describe('namespace allow-list', () => {
  it('refuses a migration, or a dry run, in another namespace before the pre-flight runs', async () => {
    const planned: MigrationRequestInput[] = [];
    const gateway = api({
      allowedNamespaces: ['team-a'],
      planner: (request) => {
        planned.push(request);
        return plannerOverFixtures(request);
      },
    });

    for (const dryRun of [false, true]) {
      const refused = await send(gateway, '/api/v1/migrations', writer, {
        method: 'POST',
        body: { ...valid, pod_namespace: 'kube-system', dry_run: dryRun },
      });
      expect(refused.status).toBe(403);
      const problem = await problemOf(refused);
      expect(problem.code).toBe('namespace-not-allowed');
      expect(problem.detail).toContain('kube-system');
    }
    // The default namespace is not implied: an unset pod_namespace means "default".
    expect(
      (await send(gateway, '/api/v1/migrations', writer, { method: 'POST', body: valid })).status,
    ).toBe(403);
    expect(planned).toEqual([]);
    expect(await gateway.footprint()).toEqual({ records: 0, jobs: 0 });

    const allowed = await send(gateway, '/api/v1/migrations', writer, {
      method: 'POST',
      body: { ...valid, pod_namespace: 'team-a' },
    });
    expect(allowed.status).toBe(202);
    expect(planned).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once a token has used its minute, per token', async () => {
    const gateway = api({ rateLimitPerMinute: 3 });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await send(gateway, '/api/v1/migrations', reader)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);

    const limited = await send(gateway, '/api/v1/migrations', reader);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await problemOf(limited)).code).toBe('rate-limited');

    // Another token has its own budget; the probes have none.
    expect((await send(gateway, '/api/v1/migrations', writer)).status).toBe(200);
    expect((await send(gateway, '/health', undefined)).status).toBe(200);
  });

  it('counts in Redis, so replicas of the API share one budget', async () => {
    const first = api({ rateLimitPerMinute: 2 });
    const replica = api({ rateLimitPerMinute: 2, replicaOf: first });

    expect((await send(first, '/metrics', writer)).status).toBe(200);
    expect((await send(replica, '/metrics', writer)).status).toBe(200);
    expect((await send(first, '/metrics', writer)).status).toBe(429);
    expect((await send(replica, '/metrics', writer)).status).toBe(429);

    const keys = await first.redis.redis.keys(`${first.redis.prefix}:rate-limit:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(writer);
  });

  it('lets requests through uncounted when Redis cannot be reached, rather than failing them', async () => {
    const gateway = api({ rateLimitPerMinute: 1, rateLimitRedisUrl: 'redis://127.0.0.1:1' });

    for (let i = 0; i < 3; i += 1) {
      expect((await send(gateway, '/metrics', writer)).status).toBe(200);
    }
  });
});

function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('api-test', 'trace', sink), lines };
}

describe('logs', () => {
  it('name the request, its token and its migration on each line, each field once', async () => {
    const { logger, lines } = capturedLogger();
    const gateway = api({ logger, rateLimitPerMinute: 10 });

    const response = await send(gateway, '/api/v1/migrations', writer, {
      method: 'POST',
      body: valid,
    });
    const { migration_id: migrationId } = (await response.json()) as { migration_id: string };

    const requestId = response.headers.get('x-request-id');
    const about = lines.filter((line) => line.includes(`"requestId":"${requestId}"`));
    expect(about.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual([
      'migration accepted',
      'request',
    ]);
    for (const line of about) {
      expect(JSON.parse(line)).toMatchObject({
        requestId,
        tokenName: 'ASO_API_TOKENS entry 1',
        access: 'read-write',
        migrationId,
        namespace: 'default',
        pod: valid.pod_name,
      });
      expect(line.match(/"requestId":/g)).toHaveLength(1);
      expect(line.match(/"migrationId":/g)).toHaveLength(1);
    }
  });

  it('name the migration of a replayed POST and of a refused cancel, and each field once', async () => {
    const { logger, lines } = capturedLogger();
    const gateway = api({
      logger,
      planner: (request) =>
        request.pod_name === 'crash'
          ? Promise.reject(new Error('the planner broke'))
          : plannerOverFixtures(request),
    });
    const post = () =>
      gateway.app.request('/api/v1/migrations', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${writer}`,
          'idempotency-key': 'logs-replay-1',
        },
        body: JSON.stringify(valid),
      });
    const first = (await (await post()).json()) as { migration_id: string };
    const replay = await post();
    const unknown = '7d3f4c5e-0000-4000-8000-000000000000';
    await send(gateway, `/api/v1/migrations/${unknown}`, writer, { method: 'DELETE' });
    await send(gateway, '/api/v1/migrations', writer, {
      method: 'POST',
      body: { ...valid, pod_name: 'crash' },
    });

    const requestLines = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['msg'] === 'request');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(requestLines.map((line) => line['migrationId'])).toEqual([
      first.migration_id,
      first.migration_id,
      unknown,
      undefined,
    ]);
    for (const line of lines) {
      expect(line.match(/"requestId":/g)).toHaveLength(1);
      expect(line.match(/"access":/g) ?? []).not.toHaveLength(2);
    }
    expect(lines.some((line) => line.includes('request failed'))).toBe(true);
  });

  it('never contain a token, whatever the request and its outcome', async () => {
    const { logger, lines } = capturedLogger();
    const gateway = api({
      logger,
      rateLimitPerMinute: 2,
      planner: (request) =>
        request.pod_name === 'crash'
          ? Promise.reject(new Error('the planner broke'))
          : plannerOverFixtures(request),
    });
    const stranger = newToken();

    await send(gateway, '/api/v1/migrations', writer, { method: 'POST', body: valid });
    await send(gateway, '/api/v1/migrations', writer, {
      method: 'POST',
      body: { ...valid, pod_name: 'crash' },
    });
    await send(gateway, '/api/v1/migrations', reader, { method: 'POST', body: valid });
    await send(gateway, '/api/v1/migrations', reader);
    await send(gateway, '/api/v1/migrations', reader);
    await send(gateway, `/api/v1/migrations?access_token=${stranger}`, stranger);
    logger.info({ headers: { authorization: `Bearer ${writer}` } }, 'headers logged by mistake');
    logger.info({ req: { headers: { Authorization: `Bearer ${reader}` } } }, 'nested headers');

    const output = lines.join('');
    expect(lines.filter((line) => line.includes('"msg":"request"'))).toHaveLength(6);
    expect(output).toContain('request failed');
    expect(output).toContain('ASO_API_TOKENS entry 1');
    for (const secret of [writer, reader, stranger]) expect(output).not.toContain(secret);
  });
});
