import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { lastEvaluationKey, MAX_POLICIES } from '@aso/shared';

import { inProcessApi, newToken, type InProcessApi } from '../../../test/support/in-process-api.ts';

// The /api/v1/policies routes in-process over a real Redis; answers are checked
// against the OpenAPI description by the in-process harness.

const writer = newToken();
const reader = newToken();
let api: InProcessApi;

beforeEach(() => {
  api = inProcessApi({
    tokens: `read-write:${writer},read-only:${reader}`,
    allowedNamespaces: ['ml', 'default'],
  });
});

afterEach(async () => {
  await api.close();
});

const policy = {
  name: 'hot-trainers',
  namespace: 'ml',
  selector: { match_labels: { app: 'trainer' } },
  metric: 'cpu',
  threshold: '800m',
  for_seconds: 30,
  target_nodes: ['worker-2'],
};

/** The policy as the schema completes it, for writing to the store directly. */
const storedFields = {
  ...policy,
  metric: 'cpu' as const,
  dry_run: false,
  cooldown_seconds: 300,
  max_in_flight: 1,
  preserve_pv: false,
};

async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; raw?: string; type?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? writer}` };
  const init: RequestInit = { method, headers };
  if (options.body !== undefined || options.raw !== undefined) {
    headers['content-type'] = options.type ?? 'application/json';
    init.body = options.raw ?? JSON.stringify(options.body);
  }
  const response = await api.app.request(path, init);
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

describe('POST /api/v1/policies', () => {
  it('creates a policy with its defaults, then replaces it', async () => {
    const created = await call('POST', '/api/v1/policies', { body: policy });

    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/policies/hot-trainers');
    expect(created.json).toMatchObject({
      ...policy,
      dry_run: false,
      cooldown_seconds: 300,
      max_in_flight: 1,
      source: 'api',
    });

    const replaced = await call('POST', '/api/v1/policies', {
      body: { ...policy, threshold: '900m', dry_run: true },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({
      threshold: '900m',
      dry_run: true,
      created_at: created.json['created_at'],
    });
  });

  it('refuses an invalid policy, naming each field, and stores nothing', async () => {
    const answer = await call('POST', '/api/v1/policies', {
      body: { ...policy, metric: 'gpu', threshold: 'lots', selector: { match_labels: {} } },
    });

    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.json['code']).toBe('invalid-request');
    const fields = (answer.json['errors'] as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['metric', 'selector.match_labels']);
    expect((await call('GET', '/api/v1/policies')).json).toEqual({ items: [], count: 0 });
  });

  it('refuses a threshold that is neither a quantity nor a percentage', async () => {
    const answer = await call('POST', '/api/v1/policies', { body: { ...policy, threshold: 'x' } });

    expect(answer.status).toBe(400);
    expect(answer.json['errors']).toEqual([
      {
        field: 'threshold',
        message:
          'threshold "x" is neither a Kubernetes quantity (e.g. "800m" or "2") ' +
          'nor a percentage of the requests (e.g. "80%")',
      },
    ]);
  });

  it('refuses bodies that are not JSON, read-only tokens and namespaces outside the list', async () => {
    const notJson = await call('POST', '/api/v1/policies', { raw: 'name=x', type: 'text/plain' });
    const broken = await call('POST', '/api/v1/policies', { raw: '{' });
    const readOnly = await call('POST', '/api/v1/policies', { body: policy, token: reader });
    const elsewhere = await call('POST', '/api/v1/policies', {
      body: { ...policy, namespace: 'kube-system' },
    });

    expect([notJson, broken, readOnly, elsewhere].map((a) => [a.status, a.json['code']])).toEqual([
      [415, 'unsupported-media-type'],
      [400, 'invalid-request'],
      [403, 'read-only-token'],
      [403, 'namespace-not-allowed'],
    ]);
  });

  it('refuses to replace or delete a policy of a namespace outside the list', async () => {
    await api.policies.put({ ...storedFields, namespace: 'kube-system' }, 'api');

    const moved = await call('POST', '/api/v1/policies', { body: policy });
    const removed = await call('DELETE', '/api/v1/policies/hot-trainers');

    expect([moved.status, moved.json['code']]).toEqual([403, 'namespace-not-allowed']);
    expect([removed.status, removed.json['code']]).toEqual([403, 'namespace-not-allowed']);
    expect((await api.policies.require('hot-trainers')).namespace).toBe('kube-system');
  });

  it('refuses a new policy beyond the cap, but still replaces a stored one', async () => {
    for (let i = 0; i < MAX_POLICIES; i++) {
      await api.policies.put({ ...storedFields, name: `p-${i}` }, 'api');
    }

    const refused = await call('POST', '/api/v1/policies', { body: policy });
    const replaced = await call('POST', '/api/v1/policies', { body: { ...policy, name: 'p-0' } });

    expect([refused.status, refused.json['code']]).toEqual([422, 'too-many-policies']);
    expect(replaced.status).toBe(200);
    expect(await api.policies.count()).toBe(MAX_POLICIES);
  });
});

describe('GET and DELETE /api/v1/policies/:name', () => {
  it('shows a policy with its latest evaluations and the migrations it started', async () => {
    await call('POST', '/api/v1/policies', { body: policy });
    const run = {
      evaluated_at: '2026-01-01T00:00:00.000Z',
      dry_run: false,
      pods: [
        {
          pod: 'trainer-0',
          node: 'worker-1',
          usage: '300m',
          above_since: null,
          decision: 'below-threshold' as const,
          reason: 'cpu usage 300m is not above the threshold 800m',
        },
      ],
    };
    await api.policies.recordRun('hot-trainers', run);

    const read = await call('GET', '/api/v1/policies/hot-trainers', { token: reader });

    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ name: 'hot-trainers', evaluations: [run] });
    expect(read.json['started_migrations']).toEqual([]);
    expect(read.json['last_evaluation_at']).toBeNull();

    // What the metrics workers' scheduler writes after each run over every policy.
    const finished = '2026-01-01T00:00:01.000Z';
    await api.redis.redis.set(lastEvaluationKey(api.redis.prefix), finished);
    const after = await call('GET', '/api/v1/policies/hot-trainers', { token: reader });
    expect(after.json['last_evaluation_at']).toBe(finished);
  });

  it('lists policies by name', async () => {
    await call('POST', '/api/v1/policies', { body: { ...policy, name: 'zeta' } });
    await call('POST', '/api/v1/policies', { body: { ...policy, name: 'alpha' } });

    const list = await call('GET', '/api/v1/policies', { token: reader });

    expect(list.json['count']).toBe(2);
    expect((list.json['items'] as { name: string }[]).map((p) => p.name)).toEqual([
      'alpha',
      'zeta',
    ]);
  });

  it('deletes a policy with its state, then answers 404', async () => {
    await call('POST', '/api/v1/policies', { body: policy });
    await api.policies.setAboveSince(
      'hot-trainers',
      new Map([['trainer-0', { since: new Date(), seen: new Date() }]]),
    );

    const removed = await call('DELETE', '/api/v1/policies/hot-trainers');

    expect(removed.status).toBe(200);
    expect(removed.json['name']).toBe('hot-trainers');
    expect((await api.policies.aboveSince('hot-trainers')).size).toBe(0);
    const gone = await call('GET', '/api/v1/policies/hot-trainers');
    expect([gone.status, gone.json['code']]).toEqual([404, 'policy-not-found']);
    const again = await call('DELETE', '/api/v1/policies/hot-trainers');
    expect(again.status).toBe(404);
  });

  it('refuses a malformed name', async () => {
    const answer = await call('GET', '/api/v1/policies/Not_A_Label');
    expect([answer.status, answer.json['code']]).toEqual([400, 'invalid-request']);
  });

  it('keeps the policies of the file out of the API writes', async () => {
    await api.policies.syncConfiguration([
      {
        ...policy,
        metric: 'cpu',
        dry_run: false,
        cooldown_seconds: 300,
        max_in_flight: 1,
        preserve_pv: false,
      },
    ]);

    const replaced = await call('POST', '/api/v1/policies', { body: policy });
    const removed = await call('DELETE', '/api/v1/policies/hot-trainers');

    expect([replaced.status, replaced.json['code']]).toEqual([409, 'policy-from-configuration']);
    expect([removed.status, removed.json['code']]).toEqual([409, 'policy-from-configuration']);
    expect((await call('GET', '/api/v1/policies/hot-trainers')).json['source']).toBe(
      'configuration',
    );
  });
});
