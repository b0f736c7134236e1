import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { z } from 'zod';

import type { MigrationRecord } from '@aso/shared';

import type { batchViewSchema } from '../../services/api/src/openapi/batch-schemas.ts';
import { eventually } from '../setup/kube.ts';
import { isReady, OrchestratorHarness } from '../support/orchestrator-harness.ts';

// Batches against the local cluster: members by label selector, "any node that
// fits", the batch's cap on members in flight, and a cancel part-way.

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('batches', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

/** A batch as its routes answer with it (checked against the OpenAPI description). */
type Batch = z.output<typeof batchViewSchema>;

/** Pods labelled `set`, placed on the given nodes in turn, each Ready. */
async function podsOf(set: string, nodes: string[], annotations: Record<string, string> = {}) {
  return Promise.all(
    nodes.map((node) => h.podOn(node, { prefix: set, labels: { set }, annotations }, isReady)),
  );
}

async function startBatch(body: Record<string, unknown>): Promise<Batch> {
  const answer = await h.api('/api/v1/batches', {
    method: 'POST',
    body: JSON.stringify({ namespace: h.namespace.name, timeout: 120, ...body }),
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as Batch;
}

async function readBatch(id: string): Promise<Batch> {
  return (await h.api(`/api/v1/batches/${id}`)).body as Batch;
}

/** The most members holding a place in flight at one moment, from the records' times. */
function peakInFlight(records: MigrationRecord[]): number {
  const edges = records.flatMap((r) => [
    { at: Date.parse(r.stages.capture.started_at ?? ''), step: 1 },
    { at: Date.parse(r.finished_at ?? ''), step: -1 },
  ]);
  // At equal times the end comes first: the place is given back before it is taken.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let current = 0;
  let peak = 0;
  for (const edge of edges) {
    current += edge.step;
    peak = Math.max(peak, current);
  }
  return peak;
}

describe('a batch by label selector', () => {
  it('moves five pods to any node that fits, never more than two in flight', async () => {
    // Spread over three source nodes, so that the per-node cap (2) alone would let
    // four move at once: only the batch's cap holds them to two.
    await podsOf('five', ['worker-1', 'worker-1', 'worker-2', 'worker-2', 'worker-3']);

    const started = await startBatch({ match_labels: { set: 'five' }, max_in_flight: 2 });
    expect(started.summary.members).toBe(5);
    expect(started.members.every((m) => m.migration_id !== null)).toBe(true);
    expect(started.members.every((m) => m.target_node !== m.source_node)).toBe(true);

    // Sampled while it runs: never more than two running, and the others wait for the batch.
    let peakRunning = 0;
    const waitingMessages = new Set<string>();
    const done = await eventually(
      async () => {
        const batch = await readBatch(started.batch_id);
        peakRunning = Math.max(peakRunning, batch.summary.by_status.running);
        for (const m of batch.members) if (m.status === 'waiting') waitingMessages.add(m.message);
        return batch.status === 'running' ? undefined : batch;
      },
      { timeoutMs: 150_000, intervalMs: 250, what: 'the batch to end' },
    );

    expect(done.status).toBe('completed');
    expect(done.summary.by_status.completed).toBe(5);
    expect(peakRunning).toBeLessThanOrEqual(2);
    expect([...waitingMessages].join('\n')).toContain(`in batch ${started.batch_id}`);

    const records = await Promise.all(
      done.members.map(
        async (m) =>
          (await h.api(`/api/v1/migrations/${m.migration_id ?? ''}`)).body as MigrationRecord,
      ),
    );
    expect(peakInFlight(records)).toBe(2);
    for (const record of records) {
      expect(record.batch).toEqual({ batch_id: started.batch_id, max_in_flight: 2 });
      expect(record.details.new_pod_node).toBe(record.request.target_node);
    }
  });
});

describe('a batch cancelled part-way', () => {
  it('cancels the members not yet switched and lets the others finish', async () => {
    // The new pods take 5 s to become Ready: the cancel lands while the first two wait.
    await podsOf('cancel', ['worker-1', 'worker-2', 'worker-3', 'worker-1'], {
      'sim.aso.dev/ready-after': '5',
    });
    const started = await startBatch({ selector: 'set=cancel', max_in_flight: 2 });
    await eventually(
      async () => (await readBatch(started.batch_id)).summary.by_status.running > 0,
      { timeoutMs: 30_000, what: 'a member to be running' },
    );

    const answer = await h.api(`/api/v1/batches/${started.batch_id}`, { method: 'DELETE' });
    expect(answer.status).toBe(200);
    const { cancels } = answer.body as { cancels: { outcome: string; code: string | null }[] };
    // Every member still working is answered for: ended, rolling back, or past its switch.
    expect(cancels.length).toBeGreaterThan(0);
    expect(cancels.filter((c) => c.outcome === 'cancelled').length).toBeGreaterThan(0);
    for (const c of cancels.filter((c) => c.outcome === 'refused')) {
      expect(c.code).toBe('migration-switch-started');
    }

    const ended = await eventually(
      async () => {
        const batch = await readBatch(started.batch_id);
        return batch.status === 'running' ? undefined : batch;
      },
      { timeoutMs: 120_000, what: 'every member to end' },
    );
    expect(ended.status).toBe('cancelled');
    expect(ended.summary.by_status.cancelled).toBeGreaterThanOrEqual(2);
    // Each pod still exists once: the original where a member was cancelled, else its new pod.
    const pods = await h.core.listNamespacedPod({
      namespace: h.namespace.name,
      labelSelector: 'set=cancel',
    });
    const alive = pods.items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(alive).toHaveLength(4);
  });
});

describe('refusals', () => {
  it('answers 422 for a selector that matches nothing, creating nothing', async () => {
    const answer = await h.api('/api/v1/batches', {
      method: 'POST',
      body: JSON.stringify({ namespace: h.namespace.name, selector: 'set=nothing-here' }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ code: 'selector-matched-nothing' });
  });

  it('refuses a member the pre-flight refuses, with its code, and moves the rest', async () => {
    const [movable] = await podsOf('mixed', ['worker-1']);
    const pinned = await h.podOn(
      'worker-1',
      {
        prefix: 'hostpath',
        spec: {
          containers: [
            {
              name: 'app',
              image: 'nginx:1.27',
              volumeMounts: [{ name: 'host', mountPath: '/host' }],
            },
          ],
          volumes: [{ name: 'host', hostPath: { path: '/var/lib/aso-e2e' } }],
        },
      },
      isReady,
    );
    const started = await startBatch({
      pods: [
        { name: movable?.metadata?.name ?? '' },
        { name: pinned.metadata?.name ?? '' },
        { name: 'no-such-pod' },
      ],
      target_node: 'worker-2',
    });

    expect(started.members.map((m) => m.refused?.code ?? 'started')).toEqual([
      'started',
      'volume-cannot-follow',
      'pod-not-found',
    ]);
    const ended = await eventually(
      async () => {
        const batch = await readBatch(started.batch_id);
        return batch.status === 'running' ? undefined : batch;
      },
      { timeoutMs: 90_000, what: 'the batch to end' },
    );
    expect(ended.status).toBe('partially-failed');
    expect(ended.summary.by_status).toMatchObject({ completed: 1, refused: 2 });
  });
});
