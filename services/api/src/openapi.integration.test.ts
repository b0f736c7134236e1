import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectDescribedResponse } from '../../../test/support/api-contract.ts';
import { inProcessApi, newToken, type InProcessApi } from '../../../test/support/in-process-api.ts';
import { openApiDocument } from './openapi/document.ts';
import type { OpenApiDocument } from './openapi/types.ts';

const writer = newToken();
const reader = newToken();

const valid = { pod_name: 'tf-train-0', source_node: 'worker-1', target_node: 'worker-2' };

let api: InProcessApi;

beforeAll(() => {
  api = inProcessApi({ tokens: `read-write:${writer},read-only:${reader}` });
});

afterAll(async () => {
  await api.close();
});

interface Call {
  method?: string;
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
}

/** Sends a request in-process and checks its answer against the description. */
async function call(path: string, init: Call = {}): Promise<{ status: number; body: unknown }> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = {
    'content-type': init.contentType ?? 'application/json',
  };
  const token = init.token === undefined ? writer : init.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));

  const response = await api.app.request(path, { method, headers, ...(body ? { body } : {}) });
  const contentType = response.headers.get('content-type');
  const text = await response.text();
  const parsed = /json/.test(contentType ?? '') ? (JSON.parse(text) as unknown) : text;

  expectDescribedResponse({ method, path, status: response.status, contentType, body: parsed });
  return { status: response.status, body: parsed };
}

describe('the OpenAPI description', () => {
  it('is served to a token holder, and is the document the schemas generate', async () => {
    const anonymous = await call('/api/v1/openapi.json', { token: null });
    const { status, body } = await call('/api/v1/openapi.json');

    expect(anonymous.status).toBe(401);
    expect(status).toBe(200);
    const served = body as OpenApiDocument;
    expect(served.openapi).toMatch(/^3\.1\./);
    expect(served.components.schemas).toEqual(openApiDocument('x').components.schemas);
    expect(served.components.securitySchemes['bearerAuth']).toMatchObject({ scheme: 'bearer' });
  });

  it('describes every route the app serves, and nothing it does not', () => {
    const described = Object.entries(openApiDocument('x').paths).flatMap(([path, item]) =>
      Object.keys(item).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
      ),
    );
    const served = api.app.routes
      .filter((route) => route.method !== 'ALL' && !route.path.startsWith('/admin/queues'))
      .map((route) => `${route.method} ${route.path}`);

    expect(new Set(served)).toEqual(new Set(described.filter((r) => !r.includes('/admin/queues'))));
  });

  it('renders a self-contained reference page naming every route and error code', async () => {
    const anonymous = await call('/api/v1/docs', { token: null });
    const { status, body } = await call('/api/v1/docs');

    expect(anonymous.status).toBe(401);
    expect(status).toBe(200);
    const page = String(body);
    for (const path of Object.keys(openApiDocument('x').paths)) expect(page).toContain(path);
    for (const code of ['migration-in-progress', 'idempotency-key-reused', 'read-only-token']) {
      expect(page).toContain(code);
    }
    expect(page).not.toMatch(/<(script|link)\b[^>]*\b(src|href)="https?:/i);
  });
});

describe('every in-process answer matches the description', () => {
  it('covers a migration from submission to cancel', async () => {
    const dryRun = await call('/api/v1/migrations', {
      method: 'POST',
      body: { ...valid, dry_run: true },
    });
    expect(dryRun.status).toBe(200);

    const accepted = await call('/api/v1/migrations', {
      method: 'POST',
      body: valid,
    });
    expect(accepted.status).toBe(202);
    const id = (accepted.body as { migration_id: string }).migration_id;

    expect((await call('/api/v1/migrations', { method: 'POST', body: valid })).status).toBe(409);
    expect((await call(`/api/v1/migrations/${id}`)).status).toBe(200);
    expect((await call('/api/v1/migrations?limit=5')).status).toBe(200);
    expect((await call(`/api/v1/migrations/${id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await call(`/api/v1/migrations/${id}`, { method: 'DELETE' })).status).toBe(409);
    expect((await call('/api/v1/metrics')).status).toBe(200);
  });

  it('covers refusals: validation, media type, size, unknown ids, access', async () => {
    const cases: [string, Call, number][] = [
      ['/api/v1/migrations', { method: 'POST', body: { ...valid, extra: 1 } }, 400],
      ['/api/v1/migrations', { method: 'POST', body: valid, contentType: 'text/plain' }, 415],
      ['/api/v1/migrations', { method: 'POST', rawBody: 'x'.repeat(20_000) }, 413],
      ['/api/v1/migrations', { method: 'POST', body: { ...valid, pod_name: 'ghost' } }, 404],
      ['/api/v1/migrations', { method: 'POST', body: valid, token: reader }, 403],
      ['/api/v1/migrations?limit=0', {}, 400],
      [`/api/v1/migrations/${randomUUID()}`, {}, 404],
      ['/api/v1/migrations/not-a-uuid', {}, 400],
      ['/api/v1/migrations', { token: null }, 401],
      ['/api/v1/metrics', { token: 'not-a-configured-token' }, 401],
    ];

    for (const [path, init, status] of cases) {
      expect((await call(path, init)).status, `${init.method ?? 'GET'} ${path}`).toBe(status);
    }
  });

  it('covers the probes, Prometheus and the admin session', async () => {
    expect((await call('/health', { token: null })).status).toBe(200);
    expect((await call('/ready', { token: null })).status).toBe(200);
    expect((await call('/metrics', { token: reader })).status).toBe(200);
    expect((await call('/admin', { token: null })).status).toBe(200);
    expect((await call('/admin/session', { method: 'POST', token: reader })).status).toBe(200);
    expect((await call('/admin/session', { method: 'DELETE', token: null })).status).toBe(204);
  });
});
