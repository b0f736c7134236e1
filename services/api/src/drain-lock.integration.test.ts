import { describe, expect, it } from 'vitest';

import { apiPerTest } from '../../../test/support/api-per-test.ts';

// The node's drain lock outlives a drain that ended without a cancel; the next
// drains of that node race for it, and exactly one may win.

const { api, send } = apiPerTest();

describe('drains of a node drained before', () => {
  it('let one of five concurrent drains take the node over, and refuse the others 409', async () => {
    api().cluster.addPod('app-0', 'worker-1');
    const first = await send('POST', '/api/v1/drains', { node: 'worker-1' });
    expect(first.status).toBe(202);
    // The member ends on its own (here cancelled alone): the drain has ended, its lock stays.
    const members = first.body['members'] as { migration_id: string }[];
    expect(
      (await send('DELETE', `/api/v1/migrations/${members[0]?.migration_id ?? ''}`)).status,
    ).toBe(200);
    expect(
      (await send('GET', `/api/v1/drains/${String(first.body['batch_id'])}`)).body['status'],
    ).not.toBe('running');
    api().cluster.addPod('app-1', 'worker-1');

    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send('POST', '/api/v1/drains', { node: 'worker-1' })),
    );

    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 409, 409, 409, 409]);
    const codes = answers.filter((a) => a.status === 409).map((a) => a.body['code']);
    expect(new Set(codes)).toEqual(new Set(['drain-in-progress']));
  });
});

describe('drains of a node never drained before', () => {
  it('start one of five concurrent drains; the others neither start nor uncordon its node', async () => {
    for (const name of ['app-0', 'app-1', 'app-2']) api().cluster.addPod(name, 'worker-1');

    const answers = await Promise.all(
      Array.from({ length: 5 }, () => send('POST', '/api/v1/drains', { node: 'worker-1' })),
    );

    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409]);
    const node = await api().cluster.readNode('worker-1');
    expect(node?.spec?.unschedulable).toBe(true);
  });
});
