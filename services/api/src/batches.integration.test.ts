import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';

import {
  inProcessApi,
  newToken,
  sendJson,
  type InProcessApi,
} from '../../../test/support/in-process-api.ts';
import type { batchViewSchema } from './openapi/batch-schemas.ts';

// Batches and drains through the gateway in-process: real Redis, a fixture cluster
// and the fixture planner. Every answer is checked against the OpenAPI description.

const writer = newToken();
const reader = newToken();

let api: InProcessApi;

beforeEach(() => {
  api = inProcessApi({ tokens: `read-write:${writer},read-only:${reader}` });
});

afterEach(async () => {
  await api.close();
});

function send(method: string, path: string, body?: unknown, token = writer) {
  return sendJson(api, token, method, path, body);
}

/** A member as the batch views answer with it. */
type Member = z.output<typeof batchViewSchema>['members'][number];

describe('POST /api/v1/batches', () => {
  it('starts one migration per pod matched by labels, each tagged with the batch cap', async () => {
    for (const name of ['web-0', 'web-1', 'web-2'])
      api.cluster.addPod(name, 'worker-1', { app: 'web' });
    api.cluster.addPod('db-0', 'worker-1', { app: 'db' });

    const { status, body, headers } = await send('POST', '/api/v1/batches', {
      match_labels: { app: 'web' },
      max_in_flight: 2,
    });

    expect(status).toBe(202);
    expect(headers.get('location')).toBe(`/api/v1/batches/${String(body['batch_id'])}`);
    const members = body['members'] as Member[];
    expect(members.map((m) => m.pod.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    expect(members.every((m) => m.migration_id !== null && m.source_node === 'worker-1')).toBe(
      true,
    );
    // "any node": the choice spreads the members over the nodes with the most room.
    expect(new Set(members.map((m) => m.target_node))).toEqual(new Set(['worker-2', 'worker-3']));
    expect(body['summary']).toMatchObject({ members: 3, by_status: { pending: 3, refused: 0 } });

    const record = await api.store.require(members[0]?.migration_id ?? '');
    expect(record.batch).toEqual({ batch_id: body['batch_id'], max_in_flight: 2 });
    expect(record.request).toMatchObject({ source_node: 'worker-1', force: false });
  });

  it('takes a selector string and a target node, and refuses members already on it', async () => {
    api.cluster.addPod('a', 'worker-1', { tier: 'x' });
    api.cluster.addPod('b', 'worker-2', { tier: 'y' });

    const { status, body } = await send('POST', '/api/v1/batches', {
      selector: 'tier in (x, y)',
      target_node: 'worker-2',
    });

    expect(status).toBe(202);
    const members = body['members'] as Member[];
    const byName = Object.fromEntries(members.map((m) => [m.pod.name, m]));
    expect(byName['a']).toMatchObject({ target_node: 'worker-2', status: 'pending' });
    expect(byName['b']).toMatchObject({
      status: 'refused',
      refused: { code: 'already-on-target' },
    });
  });

  it('reports a member the pre-flight or the pod lock refuses, and starts the others', async () => {
    api.cluster.addPod('ghost', 'worker-1');
    api.cluster.addPod('ok', 'worker-1');
    const first = await send('POST', '/api/v1/batches', { pods: [{ name: 'ok' }] });
    expect(first.status).toBe(202);

    api.cluster.addPod('fresh', 'worker-1');
    const { body } = await send('POST', '/api/v1/batches', {
      pods: [{ name: 'ghost' }, { name: 'ok' }, { name: 'missing' }, { name: 'fresh' }],
    });
    const members = body['members'] as Member[];

    // The fixture planner does not know "ghost": the pre-flight's 404 code is kept.
    expect(members.map((m) => [m.pod.name, m.refused?.code ?? null])).toEqual([
      ['ghost', 'pod-not-found'],
      ['ok', 'migration-in-progress'],
      ['missing', 'pod-not-found'],
      ['fresh', null],
    ]);
    // The pod lock's refusal names the migration once.
    const holder = (first.body['members'] as Member[])[0]?.migration_id ?? 'none';
    expect((members[1]?.refused?.detail ?? '').split(holder)).toHaveLength(2);
    expect(body['status']).toBe('running');
  });

  it('answers 422 with every reason, storing nothing, when every member is refused', async () => {
    api.cluster.addPod('ok', 'worker-1');
    await send('POST', '/api/v1/batches', { pods: [{ name: 'ok' }] });
    const before = await send('GET', '/api/v1/batches?limit=10');

    const { status, body } = await send('POST', '/api/v1/batches', {
      pods: [{ name: 'ghost' }, { name: 'ok' }],
    });

    expect([status, body['code']]).toEqual([422, 'batch-all-refused']);
    expect(body['errors']).toEqual([
      { field: 'default/ghost', message: expect.stringMatching(/^pod-not-found: /) as unknown },
      {
        field: 'default/ok',
        message: expect.stringMatching(/^migration-in-progress: /) as unknown,
      },
    ]);
    expect((await send('GET', '/api/v1/batches?limit=10')).body['items']).toEqual(
      before.body['items'],
    );
  });

  it('reads, lists and cancels a batch, reporting per member', async () => {
    for (const name of ['m-0', 'm-1']) api.cluster.addPod(name, 'worker-1', { set: 'm' });
    const { body } = await send('POST', '/api/v1/batches', { match_labels: { set: 'm' } });
    const id = String(body['batch_id']);

    const read = await send('GET', `/api/v1/batches/${id}`, undefined, reader);
    expect(read.status).toBe(200);
    expect(read.body['status']).toBe('running');

    const listed = await send('GET', '/api/v1/batches?limit=5', undefined, reader);
    expect((listed.body['items'] as { batch_id: string }[]).map((b) => b.batch_id)).toContain(id);

    const cancelled = await send('DELETE', `/api/v1/batches/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body['status']).toBe('cancelled');
    expect(cancelled.body['cancels']).toEqual([
      expect.objectContaining({ outcome: 'cancelled', code: null }),
      expect.objectContaining({ outcome: 'cancelled', code: null }),
    ]);
    expect(cancelled.body['summary']).toMatchObject({ by_status: { cancelled: 2 } });
  });

  it.each([
    [{}, /give either pods or a label selector/],
    [{ pods: [{ name: 'a' }], selector: 'app=x' }, /not both/],
    [{ selector: 'app in ()' }, /names no values/],
    [{ selector: 'a=b', max_in_flight: 0 }, /max_in_flight must be at least 1/],
    [{ selector: 'a=b', max_in_flight: 21 }, /max_in_flight must be at most 20/],
    [{ selector: 'a=b', timeout: 5 }, /timeout must be at least 30/],
    [{ selector: 'a=b', target_node: 'Not_A_Node' }, /target_node/],
    [{ match_labels: {} }, /label selector is empty/],
    [{ match_labels: { 'bad key': 'x' } }, /label key "bad key"/],
    [{ pods: [{ name: 'a' }, { name: 'a' }] }, /named twice/],
    [{ pods: [] }, /at least one pod/],
    [{ selector: 'a=b', colour: 'red' }, /unknown field\(s\): colour/],
  ])('refuses %j with 400 and names the problem', async (request, message) => {
    const { status, body } = await send('POST', '/api/v1/batches', request);

    expect(status).toBe(400);
    expect(body['code']).toBe('invalid-request');
    expect(String(body['detail'])).toMatch(message);
    expect(await api.footprint()).toEqual({ records: 0, jobs: 0 });
  });

  it('answers 422 for a selector that matches nothing, and for too many pods', async () => {
    const none = await send('POST', '/api/v1/batches', { selector: 'app=nothing' });
    expect(none.status).toBe(422);
    expect(none.body['code']).toBe('selector-matched-nothing');

    for (let i = 0; i < 201; i++)
      api.cluster.addPod(`many-${String(i)}`, 'worker-1', { many: 'y' });
    const many = await send('POST', '/api/v1/batches', { selector: 'many=y' });
    expect(many.status).toBe(422);
    expect(many.body['code']).toBe('batch-too-large');
    expect(await api.footprint()).toEqual({ records: 0, jobs: 0 });
  });

  it('refuses a read-only token, unknown ids, and a body that is not JSON', async () => {
    expect((await send('POST', '/api/v1/batches', { selector: 'a=b' }, reader)).status).toBe(403);
    const unknown = await send('GET', '/api/v1/batches/00000000-0000-4000-8000-000000000000');
    expect([unknown.status, unknown.body['code']]).toEqual([404, 'batch-not-found']);
    const bad = await send('GET', '/api/v1/batches/not-a-uuid');
    expect([bad.status, bad.body['code']]).toEqual([400, 'invalid-request']);
    expect((await send('POST', '/api/v1/batches', '{not json')).status).toBe(400);
  });
});

describe('POST /api/v1/drains', () => {
  it('cordons the node, moves its pods, leaves DaemonSet and mirror pods with the reason', async () => {
    api.cluster.addPod('app-0', 'worker-1');
    const agent = api.cluster.addPod('agent-x', 'worker-1');
    Object.assign(agent.metadata ?? {}, {
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u', controller: true },
      ],
    });
    const mirror = api.cluster.addPod('etcd-worker-1', 'worker-1');
    Object.assign(mirror.metadata ?? {}, { annotations: { 'kubernetes.io/config.mirror': 'x' } });
    api.cluster.addPod('elsewhere', 'worker-2');

    const { status, body } = await send('POST', '/api/v1/drains', { node: 'worker-1' });

    expect(status).toBe(202);
    expect(await api.cluster.readNode('worker-1')).toMatchObject({ spec: { unschedulable: true } });
    const members = body['members'] as Member[];
    expect(members.map((m) => m.pod.name)).toEqual(['app-0']);
    expect(members[0]?.target_node).not.toBe('worker-1');
    const drain = body['drain'] as { left: { pod: { name: string }; code: string }[] };
    expect(drain.left.map((l) => [l.pod.name, l.code])).toEqual([
      ['agent-x', 'daemonset'],
      ['etcd-worker-1', 'mirror-pod'],
    ]);

    const second = await send('POST', '/api/v1/drains', { node: 'worker-1' });
    expect([second.status, second.body['code']]).toEqual([409, 'drain-in-progress']);
  });

  it('uncordons on cancel only a node the drain cordoned', async () => {
    api.cluster.addPod('app-0', 'worker-1');
    const { body } = await send('POST', '/api/v1/drains', { node: 'worker-1' });

    const cancelled = await send('DELETE', `/api/v1/drains/${String(body['batch_id'])}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body['uncordoned']).toBe(true);
    expect(await api.cluster.readNode('worker-1')).toMatchObject({
      spec: { unschedulable: false },
    });

    await api.cluster.setUnschedulable('worker-2', true);
    const again = await send('POST', '/api/v1/drains', { node: 'worker-2' });
    expect((again.body['drain'] as { was_cordoned: boolean }).was_cordoned).toBe(true);
    const kept = await send('DELETE', `/api/v1/drains/${String(again.body['batch_id'])}`);
    expect(kept.body['uncordoned']).toBe(false);
    expect(await api.cluster.readNode('worker-2')).toMatchObject({ spec: { unschedulable: true } });
  });

  it('answers 404 for an unknown node and for a batch id read as a drain', async () => {
    const missing = await send('POST', '/api/v1/drains', { node: 'worker-9' });
    expect([missing.status, missing.body['code']]).toEqual([404, 'node-not-found']);

    api.cluster.addPod('p', 'worker-1', { x: 'y' });
    const batch = await send('POST', '/api/v1/batches', { selector: 'x=y' });
    const asDrain = await send('GET', `/api/v1/drains/${String(batch.body['batch_id'])}`);
    expect([asDrain.status, asDrain.body['code']]).toEqual([404, 'drain-not-found']);
  });
});
