import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { eventually } from '../setup/kube.ts';
import { isRunning, OrchestratorHarness } from '../support/orchestrator-harness.ts';

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('shapes', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

async function migrate(body: Record<string, unknown>): Promise<MigrationRecord> {
  const accepted = await h.submit(body);
  const record = await h.finished(accepted.migration_id);
  expect(record.error, JSON.stringify(record.error)).toBeNull();
  expect(record.status).toBe('completed');
  return record;
}

describe('pods of every shape', () => {
  it('keeps a classic init container and a native sidecar, which run again on the target', async () => {
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'sidecar',
        spec: {
          initContainers: [
            { name: 'setup', image: 'busybox:1.36' },
            { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always' },
          ],
          containers: [{ name: 'app', image: 'app:1' }],
        },
      },
      isRunning,
    );

    const record = await migrate({
      pod_name: pod.metadata?.name,
      source_node: 'worker-1',
      target_node: 'worker-2',
    });

    const moved = await h.core.readNamespacedPod({
      name: record.details.new_pod_name ?? '',
      namespace: h.namespace.name,
    });
    expect(moved.spec?.initContainers?.map((c) => [c.name, c.restartPolicy ?? null])).toEqual([
      ['setup', null],
      ['proxy', 'Always'],
    ]);
    const init = moved.status?.initContainerStatuses ?? [];
    expect(init.find((s) => s.name === 'setup')?.state?.terminated?.reason).toBe('Completed');
    expect(init.find((s) => s.name === 'proxy')?.state?.running).toBeDefined();
    expect(record.details.plan?.containers.map((c) => [c.name, c.role, c.keep])).toEqual([
      ['setup', 'init', true],
      ['proxy', 'sidecar', true],
      ['app', 'app', true],
    ]);
  });

  it('leaves an ephemeral debug container behind', async () => {
    const pod = await h.podOn('worker-1', { prefix: 'debugged' }, isRunning);
    const name = pod.metadata?.name ?? '';
    const withDebugger = structuredClone(pod);
    withDebugger.spec = Object.assign({ containers: [] }, withDebugger.spec, {
      ephemeralContainers: [
        { name: 'debugger', image: 'busybox:1.36', targetContainerName: 'app' },
      ],
    });
    await h.core.replaceNamespacedPodEphemeralcontainers({
      name,
      namespace: h.namespace.name,
      body: withDebugger,
    });
    await eventually(
      async () =>
        (await h.readPodOrNull(name))?.spec?.ephemeralContainers?.length ? true : undefined,
      { what: 'the ephemeral container to be added' },
    );

    const record = await migrate({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-3',
    });

    const moved = await h.core.readNamespacedPod({
      name: record.details.new_pod_name ?? '',
      namespace: h.namespace.name,
    });
    expect(moved.spec?.ephemeralContainers).toBeUndefined();
    expect(moved.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('moves a pod with a long name there and back, keeping names valid and one claim', async () => {
    const pod = await h.podOn(
      'worker-1',
      { prefix: 'a-training-job-with-a-rather-long-descriptive-name-0001' },
      isRunning,
    );
    const name = pod.metadata?.name ?? '';
    expect(name.length).toBeGreaterThan(58);

    const there = await migrate({
      pod_name: name,
      source_node: 'worker-1',
      target_node: 'worker-2',
      preserve_pv: true,
    });
    const back = await migrate({
      pod_name: there.details.new_pod_name,
      source_node: 'worker-2',
      target_node: 'worker-1',
      preserve_pv: true,
    });

    for (const moved of [there, back]) {
      expect(moved.details.new_pod_name?.length).toBeLessThanOrEqual(63);
      expect(moved.details.new_pod_name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(moved.details.pv_claim_name).toBe(there.details.pv_claim_name);
    }
    // The first move made the claim; the way back must release it before mounting it.
    expect(there.details.strategy).toBe('make-before-break');
    expect(back.details.strategy).toBe('break-before-make');
    expect(back.details.new_pod_node).toBe('worker-1');
    const claims = await h.core.listNamespacedPersistentVolumeClaim({
      namespace: h.namespace.name,
    });
    expect(claims.items.map((c) => c.metadata?.name)).toEqual([there.details.pv_claim_name]);
  });
});

describe('a checkpoint claim in a WaitForFirstConsumer class', () => {
  let wffc: OrchestratorHarness;

  beforeAll(async () => {
    wffc = await OrchestratorHarness.start('wffc', inject('kubeconfigPath'), {
      checkpointStorageClass: 'standard-wffc',
    });
  });

  afterAll(async () => {
    await wffc.stop();
  });

  it('binds on the target, since the new pod goes through the scheduler', async () => {
    const pod = await wffc.podOn('worker-1', { prefix: 'late-bind' }, isRunning);

    const accepted = await wffc.submit({
      pod_name: pod.metadata?.name,
      source_node: 'worker-1',
      target_node: 'worker-3',
      preserve_pv: true,
    });
    const record = await wffc.finished(accepted.migration_id);

    expect(record.status).toBe('completed');
    const claim = await wffc.core.readNamespacedPersistentVolumeClaim({
      name: record.details.pv_claim_name ?? '',
      namespace: wffc.namespace.name,
    });
    expect(claim.status?.phase).toBe('Bound');
    expect(claim.metadata?.annotations?.['volume.kubernetes.io/selected-node']).toBe('worker-3');
  });
});
