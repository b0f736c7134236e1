import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { inProcessApi, newToken, type InProcessApi } from '../../../test/support/in-process-api.ts';

// A policy's target nodes must exist when it is stored, as a migration's target must.

const writer = newToken();
let api: InProcessApi;

beforeEach(() => {
  api = inProcessApi({ tokens: `read-write:${writer}` });
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
};

async function post(body: unknown) {
  const response = await api.app.request('/api/v1/policies', {
    method: 'POST',
    headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('POST /api/v1/policies with target nodes', () => {
  it('refuses 422 a node that does not exist, naming it, and stores nothing', async () => {
    const refused = await post({ ...policy, target_nodes: ['worker-2', 'wroker-3'] });

    expect([refused.status, refused.body['code']]).toEqual([422, 'target-node-not-found']);
    expect(String(refused.body['detail'])).toContain('wroker-3');
    expect(await api.policies.list()).toEqual([]);

    expect((await post({ ...policy, target_nodes: ['worker-2', 'worker-3'] })).status).toBe(201);
  });
});
