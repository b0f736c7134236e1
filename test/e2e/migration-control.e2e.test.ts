import { PolicyV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { eventually, loadTestKubeConfig } from '../setup/kube.ts';
import { isRunning, OrchestratorHarness } from '../support/orchestrator-harness.ts';

// An operator's controls against the local cluster: cancel, and the caps on
// migrations in flight (the defaults: 5 cluster-wide, 2 per source node).

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('control', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

async function record(id: string): Promise<MigrationRecord> {
  return (await h.api(`/api/v1/migrations/${id}`)).body as MigrationRecord;
}

function cancel(id: string) {
  return h.api(`/api/v1/migrations/${id}`, { method: 'DELETE' });
}

async function checkpointClaims(): Promise<string[]> {
  const claims = await h.core.listNamespacedPersistentVolumeClaim({ namespace: h.namespace.name });
  return claims.items
    .filter((c) => !c.metadata?.deletionTimestamp)
    .map((c) => c.metadata?.name ?? '');
}

describe('cancel', () => {
  it('stops a migration waiting for its new pod, removes what it made, keeps the original', async () => {
    // The new pod can never become Ready: without the cancel the wait lasts 10 minutes.
    const original = await h.podOn('worker-1', {
      prefix: 'cancelled',
      annotations: { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' },
    });
    const name = original.metadata?.name ?? '';
    const accepted = await h.submit({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: true,
      timeout: 600,
    });
    const waiting = await eventually(
      async () => {
        const current = await record(accepted.migration_id);
        return current.progress.new_pod_created ? current : undefined;
      },
      { timeoutMs: 30_000, what: 'the new pod to be created' },
    );

    const answer = await cancel(accepted.migration_id);
    const ended = await h.finished(accepted.migration_id, 45_000);

    expect(answer.status).toBe(202);
    expect(ended).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', stage: 'pod', rolled_back: true },
    });
    const survivor = await h.readPodOrNull(name);
    expect(survivor?.metadata?.uid).toBe(original.metadata?.uid);
    expect(survivor?.metadata?.deletionTimestamp).toBeUndefined();
    await eventually(
      async () =>
        (await h.readPodOrNull(waiting.details.new_pod_name ?? '')) === null ? true : undefined,
      { timeoutMs: 30_000, what: 'the new pod to be removed' },
    );
    expect(await checkpointClaims()).not.toContain(`${name}-checkpoint`);

    // The pod is free again for another migration.
    expect((await cancel(accepted.migration_id)).body).toMatchObject({
      code: 'migration-finished',
    });
  });

  it('refuses once the switch began, and the migration then completes', async () => {
    const policy = loadTestKubeConfig().makeApiClient(PolicyV1Api);
    const guard = `switching-${String(Date.now())}`;
    const original = await h.podOn(
      'worker-1',
      { prefix: 'switching', labels: { guard } },
      isRunning,
    );
    const name = original.metadata?.name ?? '';
    // No disruption allowed: the eviction of the original is refused until the budget goes.
    await policy.createNamespacedPodDisruptionBudget({
      namespace: h.namespace.name,
      body: {
        metadata: { name },
        spec: { maxUnavailable: 0, selector: { matchLabels: { guard } } },
      },
    });
    const accepted = await h.submit({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: false,
      timeout: 300,
    });
    await eventually(
      async () =>
        (await record(accepted.migration_id)).progress.switch_started ? true : undefined,
      { timeoutMs: 45_000, what: 'the switch to begin' },
    );

    const answer = await cancel(accepted.migration_id);
    await policy.deleteNamespacedPodDisruptionBudget({ name, namespace: h.namespace.name });
    const ended = await h.finished(accepted.migration_id, 90_000);

    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'migration-switch-started' });
    expect(ended.status).toBe('completed');
  });
});

describe('caps on migrations in flight', () => {
  it('holds the third migration from one node as waiting until a place frees', async () => {
    // Slow to become Ready, so that the first two are still in flight when the third asks.
    const annotations = { 'sim.aso.dev/ready-after': '6' };
    const pods = await Promise.all(
      ['capped-a', 'capped-b', 'capped-c'].map((prefix) =>
        h.podOn('worker-3', { prefix, annotations }, isRunning),
      ),
    );

    const accepted = await Promise.all(
      pods.map((pod) =>
        h.submit({
          pod_name: pod.metadata?.name ?? '',
          source_node: 'worker-3',
          target_node: 'worker-2',
          preserve_pv: false,
          timeout: 300,
        }),
      ),
    );
    const held = await eventually(
      async () => {
        const records = await Promise.all(accepted.map((a) => record(a.migration_id)));
        return records.find((r) => r.status === 'waiting');
      },
      { timeoutMs: 30_000, what: 'one migration to wait for a place' },
    );

    expect(held.message).toBe(
      'waiting for a place in flight: 2 of 2 migrations in flight from node worker-3',
    );
    const ended = await Promise.all(accepted.map((a) => h.finished(a.migration_id, 120_000)));
    expect(ended.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    // The held one started its capture only after another had finished.
    const heldEnd = ended.find((r) => r.migration_id === held.migration_id);
    const firstFinish = Math.min(
      ...ended
        .filter((r) => r.migration_id !== held.migration_id)
        .map((r) => Date.parse(r.finished_at ?? '')),
    );
    expect(Date.parse(heldEnd?.stages.capture.started_at ?? '')).toBeGreaterThanOrEqual(
      firstFinish,
    );
  });
});
