import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { loadYaml, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { eventually } from '../setup/kube.ts';
import { OrchestratorHarness } from '../support/orchestrator-harness.ts';

const SAMPLE = loadYaml<V1Pod>(
  readFileSync(new URL('../../examples/tf-train-0.yaml', import.meta.url), 'utf8'),
);

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('migrate', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

/** The sample's loader has done its work and the metrics API has a sample of the pod. */
async function sampleSettled(name: string): Promise<void> {
  await eventually(
    async () => {
      const pod = await h.readPodOrNull(name);
      const loader = pod?.status?.containerStatuses?.find((c) => c.name === 'data-loader');
      const done = loader?.state?.terminated?.exitCode === 0;
      return done && (await h.podMetricsExist(name)) ? true : undefined;
    },
    { timeoutMs: 60_000, what: `pod ${name} to settle` },
  );
}

describe('migrating the sample training pod', () => {
  it('moves it to worker-2 with only the containers that still run, and reports real figures', async () => {
    const original = await h.createPod(SAMPLE);
    await sampleSettled('tf-train-0');

    const accepted = await h.submit({
      pod_name: 'tf-train-0',
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: true,
    });
    const record = await h.finished(accepted.migration_id);

    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    const details = record.details;
    expect(details.container_states.map((c) => [c.name, c.state, c.should_migrate])).toEqual([
      ['data-loader', 'completed', false],
      ['trainer', 'running', true],
      ['model-monitor', 'running', true],
    ]);

    // The new pod runs on the target with the kept containers and the checkpoint.
    const newPod = await h.core.readNamespacedPod({
      name: details.new_pod_name ?? '',
      namespace: h.namespace.name,
    });
    expect(newPod.spec?.nodeName).toBe('worker-2');
    expect(newPod.spec?.containers.map((c) => c.name)).toEqual(['trainer', 'model-monitor']);
    expect(newPod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(newPod.spec?.volumes).toContainEqual({
      name: 'migration-checkpoint',
      persistentVolumeClaim: { claimName: 'tf-train-0-checkpoint' },
    });
    expect(details.pv_claim_name).toBe('tf-train-0-checkpoint');
    expect(details.checkpoint_path).toBe('/migration-checkpoint');
    const claim = await h.core.readNamespacedPersistentVolumeClaim({
      name: 'tf-train-0-checkpoint',
      namespace: h.namespace.name,
    });
    expect(claim.status?.phase).toBe('Bound');

    // The original is gone, and was removed only after the new pod was Ready.
    const stillThere = await h.readPodOrNull('tf-train-0');
    expect(stillThere?.metadata?.uid === original.metadata?.uid).toBe(false);
    expect(Date.parse(details.original_removed_at ?? '')).toBeGreaterThanOrEqual(
      Date.parse(details.new_pod_ready_at ?? ''),
    );

    // Requested figures: 1600m / 2688Mi before, 1100m / 2176Mi after.
    expect(details.original_resources?.requested).toMatchObject({ cpu: '1600m', memory: '2688Mi' });
    expect(details.optimized_resources?.requested).toMatchObject({
      cpu: '1100m',
      memory: '2176Mi',
    });
    expect(details.savings?.requested).toMatchObject({
      cpu_millicores: 500,
      memory_bytes: 512 * 2 ** 20,
    });

    // Measured figures come from metrics.k8s.io, for the running containers only.
    expect(details.original_resources?.measured).toMatchObject({
      status: 'measured',
      cpu: '920m',
      memory: '1600Mi',
    });
    expect(details.optimized_resources?.measured).toMatchObject({
      status: 'measured',
      cpu: '920m',
      memory: '1600Mi',
    });
    expect(details.savings?.measured).toMatchObject({ status: 'measured', cpu_millicores: 0 });

    for (const stage of ['capture', 'pod', 'metrics'] as const) {
      expect(record.stages[stage].started_at).not.toBeNull();
      expect(record.stages[stage].finished_at).not.toBeNull();
    }
  });
});

describe('migrations that cannot happen', () => {
  it('refuses a pod that is not on the source node at once, and leaves it running', async () => {
    const pod = await h.podOn('worker-3', { prefix: 'elsewhere' });
    const name = pod.metadata?.name ?? '';

    const problem = await h.refused({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    expect(problem).toMatchObject({ status: 409, code: 'pod-not-on-source-node' });
    expect(problem.detail).toMatch(/runs on worker-3, not on source_node worker-1/);
    expect((await h.readPodOrNull(name))?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('refuses a pod that does not exist', async () => {
    const problem = await h.refused({
      pod_name: 'no-such-pod',
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    expect(problem).toMatchObject({ status: 404, code: 'pod-not-found' });
  });

  it('refuses a target node that does not exist, leaving the pod untouched', async () => {
    const pod = await h.podOn('worker-1', { prefix: 'stay' });
    const name = pod.metadata?.name ?? '';

    const problem = await h.refused({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-9',
    });

    expect(problem).toMatchObject({ status: 422, code: 'target-node-not-found' });
    expect((await h.readPodOrNull(name))?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('rolls back when the new pod never becomes Ready, and the original keeps running', async () => {
    // The simulator keeps this container waiting on every node, as a kubelet would
    // for an image that cannot be pulled anywhere.
    const original = await h.podOn('worker-1', {
      prefix: 'stuck',
      annotations: { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' },
    });
    const name = original.metadata?.name ?? '';

    const accepted = await h.submit({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: true,
      timeout: 30,
    });
    const record = await h.finished(accepted.migration_id, 60_000);

    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({
      code: 'new-pod-not-ready',
      stage: 'pod',
      rolled_back: true,
    });
    expect(record.error?.message).toMatch(/waiting: ImagePullBackOff/);

    const survivor = await h.readPodOrNull(name);
    expect(survivor?.metadata?.uid).toBe(original.metadata?.uid);
    expect(survivor?.metadata?.deletionTimestamp).toBeUndefined();
    await eventually(
      async () =>
        (await h.readPodOrNull(record.details.new_pod_name ?? '')) === null ? true : undefined,
      { timeoutMs: 30_000, what: 'the new pod to be removed' },
    );
    const claims = await h.core.listNamespacedPersistentVolumeClaim({
      namespace: h.namespace.name,
    });
    const leaked = claims.items.filter(
      (c) => c.metadata?.name === `${name}-checkpoint` && !c.metadata.deletionTimestamp,
    );
    expect(leaked).toEqual([]);
  });
});

describe('bad requests', () => {
  it('answers a problem document for each kind of bad request', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ source_node: 'worker-1', target_node: 'worker-2' }, 'pod_name'],
      [{ pod_name: 'UPPER', source_node: 'worker-1', target_node: 'worker-2' }, 'pod_name'],
      [{ pod_name: 'p', source_node: 'worker-1', target_node: 'worker-1' }, 'target_node'],
      [{ pod_name: 'p', source_node: 'worker-1', target_node: 'worker-2', timeout: 0 }, 'timeout'],
      [
        { pod_name: 'p', source_node: 'worker-1', target_node: 'worker-2', preserve_pv: 'yes' },
        'preserve_pv',
      ],
      [
        { pod_name: 'p', source_node: 'worker-1', target_node: 'worker-2', pod_namespace: 'a_b' },
        'pod_namespace',
      ],
    ];

    for (const [body, field] of cases) {
      const response = await h.api('/api/v1/migrations', {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(
        (response.body as { errors: { field: string }[] }).errors.map((e) => e.field),
      ).toContain(field);
    }
  });

  it('answers 404 for an unknown migration id', async () => {
    const response = await h.api(`/api/v1/migrations/${randomUUID()}`);
    expect(response.status).toBe(404);
    expect((response.body as { code: string }).code).toBe('migration-not-found');
  });
});
