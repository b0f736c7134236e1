import { describe, expect, it } from 'vitest';

import { apiPerTest } from '../../../test/support/api-per-test.ts';

// Batches and drains are listed from indexes of their own: a page of N is full
// whenever N exist, however many of the other kind came after them.

const { api, send } = apiPerTest();

function ids(body: Record<string, unknown>): string[] {
  return (body['items'] as { batch_id: string; kind: string }[]).map((item) => item.batch_id);
}

describe('GET /api/v1/batches and /api/v1/drains with a limit', () => {
  it('fill a page of each kind when enough exist, newest first', async () => {
    const batches: string[] = [];
    for (const name of ['b-0', 'b-1', 'b-2']) {
      api().cluster.addPod(name, 'worker-1');
      const batch = await send('POST', '/api/v1/batches', { pods: [{ name }] });
      batches.push(String(batch.body['batch_id']));
    }
    const drains: string[] = [];
    for (const node of ['worker-2', 'worker-3']) {
      api().cluster.addPod(`on-${node}`, node);
      const drain = await send('POST', '/api/v1/drains', { node });
      expect(drain.status).toBe(202);
      drains.push(String(drain.body['batch_id']));
    }

    const twoBatches = await send('GET', '/api/v1/batches?limit=2');
    expect(ids(twoBatches.body)).toEqual([batches[2], batches[1]]);
    expect(twoBatches.body['count']).toBe(2);

    const drainPage = await send('GET', '/api/v1/drains?limit=2');
    expect(ids(drainPage.body)).toEqual([drains[1], drains[0]]);
    const batchPage = await send('GET', '/api/v1/batches?limit=5');
    expect(ids(batchPage.body)).toEqual([...batches].reverse());
  });
});
