import { describe, expect, it } from 'vitest';

import { apiPerTest } from '../../../test/support/api-per-test.ts';

// A drain that can move nothing is refused before it cordons; one that leaves
// movable pods behind never reports completed.

const { api, send } = apiPerTest();

async function cordoned(node: string): Promise<boolean> {
  return (await api().cluster.readNode(node))?.spec?.unschedulable === true;
}

async function drainCount(): Promise<number> {
  return ((await send('GET', '/api/v1/drains')).body['items'] as unknown[]).length;
}

describe('POST /api/v1/drains with a target no pod can use', () => {
  it.each([
    [{ node: 'worker-2', target_node: 'worker-2' }, 400, 'invalid-request'],
    [{ node: 'worker-2', target_node: 'worker-9' }, 422, 'target-node-not-found'],
    [{ node: 'worker-2', target_node: 'worker-3' }, 422, 'target-node-cordoned'],
  ])('refuses %j before cordoning', async (request, status, code) => {
    api().cluster.addPod('app-0', 'worker-2');
    await api().cluster.setUnschedulable('worker-3', true);

    const answer = await send('POST', '/api/v1/drains', request);

    expect([answer.status, answer.body['code']]).toEqual([status, code]);
    expect(await cordoned('worker-2')).toBe(false);
    expect(await drainCount()).toBe(0);
    expect(await api().footprint()).toEqual({ records: 0, jobs: 0 });
  });
});

describe('a drain whose movable pods are refused', () => {
  it('answers 422 with every reason, keeps nothing and leaves the node uncordoned', async () => {
    // The fixture planner refuses the pod named "ghost".
    api().cluster.addPod('ghost', 'worker-2');

    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2' });

    expect([answer.status, answer.body['code']]).toEqual([422, 'drain-nothing-started']);
    expect(answer.body['errors']).toEqual([
      { field: 'default/ghost', message: expect.stringMatching(/^pod-not-found: /) as unknown },
    ]);
    expect(await cordoned('worker-2')).toBe(false);
    expect(await drainCount()).toBe(0);
    // The node's lock went with it: the next drain may start.
    api().cluster.addPod('app-0', 'worker-2');
    expect((await send('POST', '/api/v1/drains', { node: 'worker-2' })).status).toBe(202);
  });

  it('ends partially-failed, not completed, when some pods stayed behind', async () => {
    api().cluster.addPod('ghost', 'worker-2');
    api().cluster.addPod('app-0', 'worker-2');

    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2' });
    expect(answer.status).toBe(202);
    expect(answer.body['drain']).toMatchObject({ not_moved: 1 });
    const [member] = answer.body['members'] as { migration_id: string }[];
    await api().store.update(member?.migration_id ?? '', (record) => {
      record.status = 'completed';
    });

    const read = await send('GET', `/api/v1/drains/${String(answer.body['batch_id'])}`);
    expect(read.body['status']).toBe('partially-failed');
  });
});

describe('a drain to any node', () => {
  it('refuses a StatefulSet or hostPath pod for what it is, naming no node it never chose', async () => {
    api().cluster.addPod('app-0', 'worker-2');
    const member = api().cluster.addPod('db-0', 'worker-2');
    Object.assign(member.metadata ?? {}, {
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true },
      ],
    });
    // It fits nowhere either: the controller's refusal is the one reported.
    Object.assign(member.spec ?? {}, { nodeSelector: { disk: 'none-has-it' } });
    const local = api().cluster.addPod('cache-0', 'worker-2');
    Object.assign(local.spec ?? {}, {
      volumes: [{ name: 'scratch', hostPath: { path: '/var/cache' } }],
    });

    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2' });

    expect(answer.status).toBe(202);
    const left = (
      answer.body['drain'] as { left: { pod: { name: string }; code: string; reason: string }[] }
    ).left;
    const byName = Object.fromEntries(left.map((l) => [l.pod.name, l]));
    expect(byName['db-0']?.code).toBe('unsupported-controller');
    expect(byName['cache-0']?.code).toBe('volume-cannot-follow');
    expect(byName['cache-0']?.reason).toMatch(/cannot follow it to any other node/);
    expect(byName['cache-0']?.reason).not.toMatch(/target_node/);
  });
});

describe('DELETE of a drain that has ended', () => {
  it('keeps its status and still uncordons the node it cordoned', async () => {
    api().cluster.addPod('app-0', 'worker-2');
    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2' });
    const [member] = answer.body['members'] as { migration_id: string }[];
    await api().store.update(member?.migration_id ?? '', (record) => {
      record.status = 'completed';
    });

    const deleted = await send('DELETE', `/api/v1/drains/${String(answer.body['batch_id'])}`);

    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ status: 'completed', uncordoned: true, cancels: [] });
    expect(await cordoned('worker-2')).toBe(false);
    const read = await send('GET', `/api/v1/drains/${String(answer.body['batch_id'])}`);
    expect(read.body['status']).toBe('completed');
  });
});

describe('a drain whose members wait their turn', () => {
  it('keeps its record and its node lock while the last member may still run', async () => {
    for (const name of ['a', 'b', 'c']) api().cluster.addPod(name, 'worker-2');

    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2', timeout: 3600 });

    expect(answer.status).toBe(202);
    // Admitted one after another, each member has its whole timeout from its admission.
    const { redis, prefix } = api().redis;
    const recordTtl = await redis.ttl(`${prefix}:batch:${String(answer.body['batch_id'])}`);
    expect(recordTtl).toBeGreaterThanOrEqual(3 * 3600);
    expect(await redis.ttl(`${prefix}:drain-lock:worker-2`)).toBeGreaterThanOrEqual(recordTtl);
  });
});

describe('a drain asking for more in flight than the per-node cap', () => {
  it('warns, naming the cap, and records the figure that can run', async () => {
    for (const name of ['a', 'b', 'c']) api().cluster.addPod(name, 'worker-2');

    const answer = await send('POST', '/api/v1/drains', { node: 'worker-2', max_in_flight: 5 });

    expect(answer.status).toBe(202);
    expect(answer.body['max_in_flight']).toBe(2);
    expect(answer.body['warnings']).toEqual([
      expect.stringContaining('ASO_MAX_IN_FLIGHT_PER_NODE=2') as unknown,
    ]);
    const [member] = answer.body['members'] as { migration_id: string }[];
    const record = await api().store.require(member?.migration_id ?? '');
    expect(record.batch?.max_in_flight).toBe(2);

    api().cluster.addPod('z', 'worker-1');
    const within = await send('POST', '/api/v1/batches', {
      pods: [{ name: 'z' }],
      max_in_flight: 5,
    });
    expect(within.status).toBe(202);
    expect(within.body['warnings']).toBeUndefined();
  });
});
