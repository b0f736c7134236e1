import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { migrationRequestSchema, type MigrationRequestInput } from '@aso/shared';

import {
  inProcessApi,
  newToken,
  plannerOverFixtures,
  type InProcessApi,
} from '../../../test/support/in-process-api.ts';

/**
 * Property-based tests of the gateway: random, malformed and oversized requests
 * against the app in-process, with the real Redis under a prefix of its own. Runs
 * are bounded so that the file stays well under half a minute.
 */

const writer = newToken();
const reader = newToken();
const ALLOWED_NAMESPACES = ['default', 'team-a'];

interface Case {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string | undefined;
  /** Whether the case carries the read-write token, the only one that may write. */
  writes: boolean;
}

let gateway: InProcessApi;
let current: Case | undefined;
const misplannedRequests: MigrationRequestInput[] = [];

/**
 * The pre-flight stands for the cluster: it must only ever see a request that
 * passed every check before it. Anything else is recorded and fails the property.
 */
function guardedPlanner(request: MigrationRequestInput) {
  const valid = migrationRequestSchema.safeParse(request).success;
  const allowed = ALLOWED_NAMESPACES.includes(request.pod_namespace);
  if (!valid || !allowed || current?.writes !== true) {
    misplannedRequests.push(request);
    return Promise.reject(new Error('the pre-flight was reached by a request to refuse'));
  }
  return plannerOverFixtures(request);
}

beforeAll(() => {
  gateway = inProcessApi({
    tokens: `read-write:${writer},read-only:${reader}`,
    rateLimitPerMinute: 1_000_000,
    allowedNamespaces: ALLOWED_NAMESPACES,
    planner: guardedPlanner,
  });
});

afterAll(async () => {
  await gateway.close();
});

/** Text an HTTP header can carry (visible Latin-1), which is all a client can send. */
const headerText = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e\xa1-\xff]{0,120}$/);
const anyText = fc.string({ unit: 'grapheme', maxLength: 200 });

const HUGE = [
  'x'.repeat(20_000),
  '\u{1F680}'.repeat(5_000),
  JSON.stringify({ pod_name: 'é'.repeat(9_000), source_node: 'w', target_node: 'v' }),
];

const authorizations = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${writer}`),
  fc.constant(`bearer ${writer}`),
  fc.constant(`Bearer ${reader}`),
  fc.constant(`Bearer  ${writer}x`),
  fc.constant(`Basic ${writer}`),
  headerText.map((text) => `Bearer ${text}`),
  headerText,
);

const contentTypes = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
  ),
  headerText,
);

const names = fc.oneof(
  fc.constantFrom('tf-train-0', 'other', 'ghost', 'worker-1', 'worker-2', ''),
  fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/),
  anyText,
  fc.constantFrom('a'.repeat(254), '-leading', 'UPPER', 'dots.in.name', 'ünïcode', '../etc'),
);

/** Near-valid requests with fields of every type, the most likely to slip through. */
const migrationBodies = fc
  .record(
    {
      pod_name: fc.oneof(names, fc.jsonValue()),
      pod_namespace: fc.oneof(
        fc.constantFrom('default', 'team-a', 'kube-system', 'Team-A', ''),
        names,
        fc.jsonValue(),
      ),
      source_node: fc.oneof(fc.constantFrom('worker-1', 'worker-2'), names),
      target_node: fc.oneof(fc.constantFrom('worker-1', 'worker-2'), names),
      preserve_pv: fc.oneof(fc.boolean(), fc.jsonValue()),
      dry_run: fc.oneof(fc.boolean(), fc.jsonValue()),
      force: fc.oneof(fc.boolean(), fc.jsonValue()),
      timeout: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((body) => JSON.stringify(body));

const bodies = fc.oneof(
  { weight: 4, arbitrary: migrationBodies },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const ids = fc.oneof(fc.uuid(), anyText, fc.constantFrom('', '%', '..', 'a'.repeat(5_000)));

const paths = fc.oneof(
  { weight: 5, arbitrary: fc.constant('/api/v1/migrations') },
  { weight: 2, arbitrary: ids.map((id) => `/api/v1/migrations/${encodeURIComponent(id)}`) },
  { weight: 1, arbitrary: anyText.map((q) => `/api/v1/migrations?limit=${encodeURIComponent(q)}`) },
  { weight: 1, arbitrary: fc.constantFrom('/api/v1/metrics', '/metrics', '/health', '/ready') },
  { weight: 1, arbitrary: anyText.map((p) => `/${encodeURIComponent(p)}`) },
);

/** Well-formed migration requests, allowed namespace or not, dry run or not. */
const validBodies = fc
  .record(
    {
      pod_name: fc.stringMatching(/^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/),
      pod_namespace: fc.constantFrom('default', 'team-a', 'team-b'),
      source_node: fc.constant('worker-1'),
      target_node: fc.constant('worker-2'),
      preserve_pv: fc.boolean(),
      dry_run: fc.boolean(),
      timeout: fc.integer({ min: 30, max: 3600 }),
    },
    { requiredKeys: ['pod_name', 'source_node', 'target_node'] },
  )
  .map((body) => JSON.stringify(body));

type Drawn = Omit<Case, 'writes'>;

function finished(drawn: Drawn): Case {
  const writes =
    drawn.authorization === `Bearer ${writer}` || drawn.authorization === `bearer ${writer}`;
  // GET and HEAD carry no body: fetch refuses to build such a request.
  const bodyless = drawn.method === 'GET' || drawn.method === 'HEAD';
  return { ...drawn, body: bodyless ? undefined : drawn.body, writes };
}

const methods = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD');

/** Anything at all: each part of the request drawn on its own. */
const randomCases = fc.record({
  method: methods,
  path: paths,
  authorization: authorizations,
  contentType: contentTypes,
  body: bodies,
});

/**
 * A submission that would be accepted, with at most one part replaced by a random
 * one: the requests that get furthest, to the pre-flight and the store.
 */
const nearValidCases = fc
  .record({
    body: validBodies,
    replaced: fc.constantFrom('nothing', 'method', 'path', 'authorization', 'contentType', 'body'),
    random: randomCases,
  })
  .map(({ body, replaced, random }): Drawn => {
    const valid: Drawn = {
      method: 'POST',
      path: '/api/v1/migrations',
      authorization: `Bearer ${writer}`,
      contentType: 'application/json',
      body,
    };
    return replaced === 'nothing' ? valid : { ...valid, [replaced]: random[replaced] };
  });

const cases: fc.Arbitrary<Case> = fc.oneof(randomCases, nearValidCases).map(finished);

function send(request: Case): Promise<Response> {
  const headers: Record<string, string> = {};
  if (request.authorization !== undefined) headers['authorization'] = request.authorization;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;

  return Promise.resolve(
    gateway.app.request(request.path, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
  );
}

async function expectProblem(request: Case, response: Response): Promise<void> {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  if (request.method === 'HEAD') return;

  const problem = (await response.json()) as Record<string, unknown>;
  expect(problem['status']).toBe(response.status);
  expect(typeof problem['code']).toBe('string');
  expect(typeof problem['detail']).toBe('string');
}

describe('the API under random requests', () => {
  it('never fails with a 5xx, answers every refusal as a problem, and stores nothing it refuses', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(cases, async (request) => {
        current = request;
        misplannedRequests.length = 0;
        const before = await gateway.footprint();

        const response = await send(request);
        seen.add(response.status);

        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) await expectProblem(request, response);
        else await response.arrayBuffer();

        const after = await gateway.footprint();
        const submitted = request.method === 'POST' && response.status === 202;
        if (submitted) expect(request.writes).toBe(true);
        if (response.status >= 400) expect(after).toEqual(before);
        expect(after.records).toBe(before.records + (submitted ? 1 : 0));
        expect(misplannedRequests).toEqual([]);
      }),
      { numRuns: 600 },
    );

    // The generators reach every outcome, acceptance included, not only early refusals.
    for (const status of [200, 202, 400, 401, 403, 404, 409, 413, 415]) {
      expect(seen, `status ${status}`).toContain(status);
    }
  });

  it('refuses a malformed id or limit with 400, whatever the text', async () => {
    await fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        const encoded = encodeURIComponent(text);
        const headers = { authorization: `Bearer ${reader}` };

        const byId = await gateway.app.request(`/api/v1/migrations/${encoded}`, { headers });
        expect([400, 404]).toContain(byId.status);
        await expectProblem({ method: 'GET' } as Case, byId);

        const list = await gateway.app.request(`/api/v1/migrations?limit=${encoded}`, { headers });
        expect([200, 400]).toContain(list.status);
        if (list.status === 400) await expectProblem({ method: 'GET' } as Case, list);
        else await list.arrayBuffer();
      }),
      { numRuns: 100 },
    );
  });
});
