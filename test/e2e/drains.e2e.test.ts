import {
  AppsV1Api,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { eventually, loadTestKubeConfig } from '../setup/kube.ts';
import { isReady, OrchestratorHarness } from '../support/orchestrator-harness.ts';
import { claimPodSpec, staticClaim } from '../support/static-claim.ts';

// Node drains against the local cluster. The API may migrate in this file's
// namespace only, so a drain leaves the pods of every other namespace where they are
// (reported as namespace-not-allowed) and the shared cluster is not disturbed.

let h: OrchestratorHarness;
let apps: AppsV1Api;
const volumes: { delete(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await OrchestratorHarness.start(
    'drains',
    inject('kubeconfigPath'),
    {},
    {
      onlyOwnNamespace: true,
    },
  );
  apps = loadTestKubeConfig().makeApiClient(AppsV1Api);
  await createDaemonSet('agent');
});

afterAll(async () => {
  // A finished drain leaves its node cordoned, as kubectl drain does; later files need it.
  for (const name of ['worker-1', 'worker-2', 'worker-3']) {
    await h.core.patchNode(
      { name, body: { spec: { unschedulable: false } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
  await h.stop();
  await Promise.all(volumes.map((volume) => volume.delete()));
});

interface Drain {
  batch_id: string;
  status: string;
  members: { pod: { name: string }; migration_id: string | null; status: string }[];
  drain: { node: string; was_cordoned: boolean; left: { pod: { name: string }; code: string }[] };
}

async function podsLabelled(selector: string): Promise<V1Pod[]> {
  const list = await h.core.listNamespacedPod({
    namespace: h.namespace.name,
    labelSelector: selector,
  });
  return list.items;
}

async function createDaemonSet(name: string): Promise<void> {
  await apps.createNamespacedDaemonSet({
    namespace: h.namespace.name,
    body: {
      metadata: { name },
      spec: {
        selector: { matchLabels: { ds: name } },
        template: {
          metadata: { labels: { ds: name } },
          spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] },
        },
      },
    },
  });
  await eventually(async () => (await podsLabelled(`ds=${name}`)).filter(isReady).length === 3, {
    what: `a Ready pod of DaemonSet ${name} on every node`,
  });
}

/** A Deployment whose replicas all start on `node` (pinned by hostname, which a move drops). */
async function createDeployment(name: string, replicas: number, node: string): Promise<void> {
  await apps.createNamespacedDeployment({
    namespace: h.namespace.name,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            terminationGracePeriodSeconds: 1,
            nodeSelector: { 'kubernetes.io/hostname': node },
            containers: [{ name: 'web', image: 'nginx:1.27' }],
          },
        },
      },
    },
  });
  await eventually(
    async () => (await podsLabelled(`app=${name}`)).filter(isReady).length === replicas,
    {
      what: `${replicas} Ready replicas of ${name}`,
    },
  );
}

async function startDrain(body: Record<string, unknown>): Promise<Drain> {
  const answer = await h.api('/api/v1/drains', { method: 'POST', body: JSON.stringify(body) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body as Drain;
}

async function drainEnded(id: string): Promise<Drain> {
  return eventually(
    async () => {
      const drain = (await h.api(`/api/v1/drains/${id}`)).body as Drain;
      return drain.status === 'running' ? undefined : drain;
    },
    { timeoutMs: 150_000, intervalMs: 500, what: `drain ${id} to end` },
  );
}

async function unschedulable(node: string): Promise<boolean> {
  return (await h.core.readNode({ name: node })).spec?.unschedulable === true;
}

/**
 * Samples the Ready pods a selector matches until stopped; the lowest count seen.
 * Ready is what a PodDisruptionBudget counts as healthy.
 */
function watchReady(selector: string): { stop(): Promise<number> } {
  let lowest = Number.POSITIVE_INFINITY;
  const sampling = { on: true };
  const loop = (async () => {
    while (sampling.on) {
      const pods = await podsLabelled(selector);
      const ready = pods.filter((p) => isReady(p) && !p.metadata?.deletionTimestamp).length;
      lowest = Math.min(lowest, ready);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      sampling.on = false;
      await loop;
      return lowest;
    },
  };
}

describe('a drain of worker-1', () => {
  it('cordons it, moves its pods, leaves the DaemonSet pod and never breaks the budget', async () => {
    await createDeployment('web', 2, 'worker-1');
    await loadTestKubeConfig()
      .makeApiClient(PolicyV1Api)
      .createNamespacedPodDisruptionBudget({
        namespace: h.namespace.name,
        body: {
          metadata: { name: 'web' },
          spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } },
        },
      });
    const plain = await h.podOn('worker-1', { prefix: 'plain' }, isReady);
    const budget = watchReady('app=web');

    // One member at a time: two replicas of one ReplicaSet handed off at once may
    // make it remove the other's original (a known shortcoming of the handoff).
    const started = await startDrain({ node: 'worker-1', max_in_flight: 1, timeout: 120 });

    expect(await unschedulable('worker-1')).toBe(true);
    expect(started.drain.was_cordoned).toBe(false);
    const left = started.drain.left.filter((l) => l.pod.name.startsWith('agent-'));
    expect(left).toEqual([expect.objectContaining({ code: 'daemonset' })]);
    expect(
      started.drain.left.every((l) => ['daemonset', 'namespace-not-allowed'].includes(l.code)),
    ).toBe(true);
    const moved = started.members.map((m) => m.pod.name);
    expect(moved).toHaveLength(3);
    expect(moved).toContain(plain.metadata?.name);

    const ended = await drainEnded(started.batch_id);
    const lowestReady = await budget.stop();

    expect(ended.status).toBe('completed');
    expect(lowestReady).toBeGreaterThanOrEqual(1);
    const records = await Promise.all(
      ended.members.map(
        async (m) =>
          (await h.api(`/api/v1/migrations/${m.migration_id ?? ''}`)).body as MigrationRecord,
      ),
    );
    for (const record of records) {
      expect(record.details.new_pod_node).not.toBe('worker-1');
      expect(record.details.removal).not.toBe('deleted');
    }
    expect(records.map((r) => r.details.strategy).sort()).toEqual([
      'make-before-break',
      'replicaset-handoff',
      'replicaset-handoff',
    ]);

    const stillThere = (await podsLabelled('')).filter(
      (p) => p.spec?.nodeName === 'worker-1' && !p.metadata?.deletionTimestamp,
    );
    expect(stillThere.map((p) => p.metadata?.labels?.['ds'])).toEqual(['agent']);
    expect((await podsLabelled('app=web')).filter(isReady)).toHaveLength(2);
    // A finished drain leaves the node cordoned, as kubectl drain does.
    expect(await unschedulable('worker-1')).toBe(true);
  });
});

describe('a drain held by a PodDisruptionBudget', () => {
  it('retries the refused eviction until the deadline, then rolls back: nothing is deleted', async () => {
    // Only this test's pod on worker-2: the pods earlier tests moved there are removed.
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: h.namespace.name });
    await h.core.deleteCollectionNamespacedPod({
      namespace: h.namespace.name,
      labelSelector: '!ds',
    });
    // A ReadWriteOnce claim makes it break-before-make: the original must go first,
    // and the budget (one pod, minAvailable 1) refuses to let it go.
    const claim = await staticClaim(h.core, h.namespace.name, 'held-data');
    volumes.push(claim);
    const held = await h.podOn(
      'worker-2',
      {
        prefix: 'held',
        labels: { app: 'held' },
        spec: claimPodSpec(claim.name),
      },
      isReady,
    );
    await loadTestKubeConfig()
      .makeApiClient(PolicyV1Api)
      .createNamespacedPodDisruptionBudget({
        namespace: h.namespace.name,
        body: {
          metadata: { name: 'held' },
          spec: { minAvailable: 1, selector: { matchLabels: { app: 'held' } } },
        },
      });
    const budget = watchReady('app=held');

    const started = await startDrain({ node: 'worker-2', timeout: 30 });
    const ended = await drainEnded(started.batch_id);
    const lowestReady = await budget.stop();

    const member = ended.members.find((m) => m.pod.name === held.metadata?.name);
    const record = (await h.api(`/api/v1/migrations/${member?.migration_id ?? ''}`))
      .body as MigrationRecord;
    expect(record.status).toBe('failed');
    expect(record.error).toMatchObject({ code: 'disruption-budget-blocked', rolled_back: true });
    expect(record.details.removal).toBeNull();
    expect(lowestReady).toBeGreaterThanOrEqual(1);
    const original = await h.readPodOrNull(held.metadata?.name ?? '');
    expect(original?.metadata?.uid).toBe(held.metadata?.uid);
    expect(original?.metadata?.deletionTimestamp).toBeUndefined();
    expect(ended.status).toBe('failed');
  });
});

describe('a drain cancelled part-way', () => {
  it('cancels its members and uncordons the node it cordoned', async () => {
    // The drains above left their nodes cordoned, and a cordoned target is refused.
    for (const name of ['worker-1', 'worker-2']) {
      await h.core.patchNode(
        { name, body: { spec: { unschedulable: false } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    }
    const slow = await h.podOn(
      'worker-3',
      { prefix: 'slow', annotations: { 'sim.aso.dev/ready-after': '15' } },
      isReady,
    );
    const started = await startDrain({ node: 'worker-3', target_node: 'worker-2', timeout: 120 });
    expect(await unschedulable('worker-3')).toBe(true);

    // While the member's new pod waits to be Ready, that pod cannot be moved itself.
    const memberId = started.members[0]?.migration_id ?? '';
    const [newPod] = await eventually(
      async () => {
        const pods = await podsLabelled(`aso.dev/migration-id=${memberId}`);
        return pods.length > 0 ? pods : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the member to create its new pod' },
    );
    const second = await h.api('/api/v1/migrations', {
      method: 'POST',
      body: JSON.stringify({
        pod_name: newPod?.metadata?.name,
        pod_namespace: h.namespace.name,
        target_node: 'worker-1',
      }),
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'migration-in-progress', migration_id: memberId });

    const answer = await h.api(`/api/v1/drains/${started.batch_id}`, { method: 'DELETE' });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ uncordoned: true });
    expect(await unschedulable('worker-3')).toBe(false);
    const ended = await drainEnded(started.batch_id);
    expect(ended.status).toBe('cancelled');
    // The cancelled member's original is still there, on worker-3.
    expect((await h.readPodOrNull(slow.metadata?.name ?? ''))?.spec?.nodeName).toBe('worker-3');
  });

  it('answers 404 for an unknown node', async () => {
    const missing = await h.api('/api/v1/drains', {
      method: 'POST',
      body: JSON.stringify({ node: 'worker-9' }),
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'node-not-found' });

    // A target no pod could move to is refused before the node is cordoned.
    const toItself = await h.api('/api/v1/drains', {
      method: 'POST',
      body: JSON.stringify({ node: 'worker-3', target_node: 'worker-3' }),
    });
    expect(toItself.status).toBe(400);
    expect(await unschedulable('worker-3')).toBe(false);
  });
});
