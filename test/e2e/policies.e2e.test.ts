import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord, PodEvaluation, PolicyRun } from '@aso/shared';

import { eventually } from '../setup/kube.ts';
import { isReady, OrchestratorHarness } from '../support/orchestrator-harness.ts';

/**
 * Load policies against the local control plane: the metrics worker evaluates them
 * every second, reads the pods' usage from metrics.k8s.io (the simulator publishes
 * what each pod's sim.aso.dev/usage annotation says) and starts migrations through
 * the same submission as the gateway.
 */

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('policies', inject('kubeconfigPath'), {
    policyIntervalSeconds: 1,
  });
});

afterAll(async () => {
  await h.stop();
});

interface PolicyDetails {
  name: string;
  evaluations: PolicyRun[];
  started_migrations: { migration_id: string; pod: string }[];
}

/** A Ready pod on worker-1 with the label and measured CPU usage asked for. */
async function loadedPod(
  label: string,
  prefix: string,
  cpu: string,
  requestedCpu?: string,
): Promise<string> {
  const resources = requestedCpu === undefined ? {} : { requests: { cpu: requestedCpu } };
  const pod = await h.podOn(
    'worker-1',
    {
      prefix,
      labels: { app: label },
      annotations: { 'sim.aso.dev/usage': `app=${cpu}/64Mi` },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'nginx:1.27', resources }],
      },
    },
    isReady,
  );
  const name = pod.metadata?.name ?? '';
  await eventually(() => h.podMetricsExist(name), { what: `metrics of ${name}` });
  return name;
}

async function putPolicy(body: Record<string, unknown>): Promise<void> {
  const answer = await h.api('/api/v1/policies', { method: 'POST', body: JSON.stringify(body) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

async function readPolicy(name: string): Promise<PolicyDetails> {
  const answer = await h.api(`/api/v1/policies/${name}`);
  expect(answer.status).toBe(200);
  return answer.body as PolicyDetails;
}

/** The first evaluation of `pod` with that decision, waiting for it. */
async function decisionFor(policy: string, pod: string, decision: string): Promise<PodEvaluation> {
  let latest: PolicyRun | undefined;
  try {
    return await eventually(
      async () => {
        const { evaluations } = await readPolicy(policy);
        latest = evaluations[0];
        return evaluations
          .flatMap((run) => run.pods)
          .find((seen) => seen.pod === pod && seen.decision === decision);
      },
      { what: `policy ${policy} to decide ${decision} for ${pod}`, timeoutMs: 60_000 },
    );
  } catch (error) {
    // What the policy decided instead says why.
    throw new Error(`${String(error)}; latest evaluation: ${JSON.stringify(latest)}`, {
      cause: error,
    });
  }
}

async function migrationsOf(pod: string): Promise<MigrationRecord[]> {
  const { body } = await h.api('/api/v1/migrations?limit=500');
  return (body as { items: MigrationRecord[] }).items.filter((r) => r.request.pod_name === pod);
}

describe('a policy over measured CPU', () => {
  it('migrates the pod held above its threshold, and not the one below', async () => {
    const label = `train-${randomUUID().slice(0, 6)}`;
    const [hot, cool] = await Promise.all([
      loadedPod(label, 'hot', '900m'),
      loadedPod(label, 'cool', '100m'),
    ]);

    await putPolicy({
      name: 'hot-trainers',
      namespace: h.namespace.name,
      selector: { match_labels: { app: label } },
      metric: 'cpu',
      threshold: '500m',
      for_seconds: 2,
      target_nodes: ['worker-2'],
      cooldown_seconds: 600,
    });

    const started = await decisionFor('hot-trainers', hot, 'migration-started');
    expect(started).toMatchObject({
      node: 'worker-1',
      usage: '900m',
      target_node: 'worker-2',
      reason: 'usage held above 500m for 2 s: migrating from worker-1 to worker-2',
    });
    // The hold began at least for_seconds before the start.
    const heldMs = Date.parse(started.above_since ?? '');
    const { evaluations } = await readPolicy('hot-trainers');
    const startRun = evaluations.find((run) =>
      run.pods.some((seen) => seen.decision === 'migration-started'),
    );
    expect(Date.parse(startRun?.evaluated_at ?? '') - heldMs).toBeGreaterThanOrEqual(2_000);

    const record = await h.finished(started.migration_id ?? '', 120_000);
    expect(record.error).toBeNull();
    expect(record.status).toBe('completed');
    expect(record.request).toMatchObject({
      pod_name: hot,
      source_node: 'worker-1',
      target_node: 'worker-2',
    });
    expect(record.details.new_pod_node).toBe('worker-2');

    expect(await decisionFor('hot-trainers', cool, 'below-threshold')).toMatchObject({
      usage: '100m',
      above_since: null,
      reason: 'cpu usage 100m is not above the threshold 500m',
    });
    // The new pod matches the selector too, but runs on the target already.
    await decisionFor('hot-trainers', record.details.new_pod_name ?? '', 'already-on-target');

    const policy = await readPolicy('hot-trainers');
    expect(policy.started_migrations).toEqual([
      expect.objectContaining({ migration_id: started.migration_id, pod: hot }),
    ]);
    expect(await migrationsOf(cool)).toEqual([]);
    expect((await h.readPodOrNull(cool))?.spec?.nodeName).toBe('worker-1');

    const metrics = await (await fetch(`${h.system.workerMetricsUrls.metrics}/metrics`)).text();
    expect(metrics).toMatch(/aso_policy_decisions_total\{decision="migration-started"[^}]*\} 1\b/);
    expect(metrics).toMatch(/aso_migrations_started_total\{[^}]*\} 1\b/);

    await h.api('/api/v1/policies/hot-trainers', { method: 'DELETE' });
  });
});

describe('two policies with opposite targets', () => {
  it('move a pod once: the pod one made is in cooldown for every policy', async () => {
    const label = `pingpong-${randomUUID().slice(0, 6)}`;
    const hot = await loadedPod(label, 'ping', '900m');
    const common = {
      namespace: h.namespace.name,
      selector: { match_labels: { app: label } },
      metric: 'cpu',
      threshold: '500m',
      for_seconds: 0,
      cooldown_seconds: 0,
    };
    await putPolicy({ ...common, name: 'p-ping', target_nodes: ['worker-2'] });
    await putPolicy({ ...common, name: 'p-pong', target_nodes: ['worker-1'] });

    const started = await decisionFor('p-ping', hot, 'migration-started');
    const record = await h.finished(started.migration_id ?? '', 120_000);
    expect(record.status).toBe('completed');
    const moved = record.details.new_pod_name ?? '';

    // p-pong would send the new pod on worker-2 straight back to worker-1.
    const held = await decisionFor('p-pong', moved, 'in-cooldown');
    expect(held.migration_id).toBe(started.migration_id);
    expect(held.reason).toMatch(
      new RegExp(`^the pod was made by migration ${started.migration_id}, which policy p-ping`),
    );
    expect(await migrationsOf(moved)).toEqual([]);
    expect((await readPolicy('p-pong')).started_migrations).toEqual([]);

    await h.api('/api/v1/policies/p-ping', { method: 'DELETE' });
    await h.api('/api/v1/policies/p-pong', { method: 'DELETE' });
  });
});

describe('a pod already migrating', () => {
  it('is left alone, the decision naming the migration in progress', async () => {
    const label = `busy-${randomUUID().slice(0, 6)}`;
    // Its new pod takes 8 s to become Ready: a window in which the migration is unfinished.
    const pod = await h.podOn(
      'worker-1',
      {
        prefix: 'busy',
        labels: { app: label },
        annotations: { 'sim.aso.dev/usage': 'app=900m/64Mi', 'sim.aso.dev/ready-after': '8' },
        spec: { terminationGracePeriodSeconds: 1 },
      },
      isReady,
    );
    const busy = pod.metadata?.name ?? '';
    await eventually(() => h.podMetricsExist(busy), { what: `metrics of ${busy}` });
    const manual = await h.submit({
      pod_name: busy,
      source_node: 'worker-1',
      target_node: 'worker-2',
      timeout: 120,
    });

    await putPolicy({
      name: 'busy',
      namespace: h.namespace.name,
      selector: { match_labels: { app: label } },
      metric: 'cpu',
      threshold: '500m',
      for_seconds: 0,
      target_nodes: ['worker-3', 'worker-2'],
    });

    const seen = await decisionFor('busy', busy, 'pod-already-migrating');
    expect(seen).toMatchObject({
      migration_id: manual.migration_id,
      reason: `migration ${manual.migration_id} of this pod is unfinished`,
    });
    const record = await h.finished(manual.migration_id, 120_000);
    expect(record.status).toBe('completed');
    // Its new pod runs on one of the policy's targets: nothing to do there either.
    await decisionFor('busy', record.details.new_pod_name ?? '', 'already-on-target');
    expect((await readPolicy('busy')).started_migrations).toEqual([]);
    expect((await migrationsOf(busy)).map((r) => r.migration_id)).toEqual([manual.migration_id]);

    await h.api('/api/v1/policies/busy', { method: 'DELETE' });
  });
});

describe('a dry-run policy with a threshold relative to the requests', () => {
  it('reports the migration it would start, and starts none', async () => {
    const label = `dry-${randomUUID().slice(0, 6)}`;
    // 900m used of 1 requested: above a threshold of 80% of the requests.
    const hot = await loadedPod(label, 'dry-hot', '900m', '1');
    const second = await loadedPod(label, 'dry-also', '950m', '1');

    await putPolicy({
      name: 'dry-run',
      namespace: h.namespace.name,
      selector: { match_labels: { app: label } },
      metric: 'cpu',
      threshold: '80%',
      for_seconds: 0,
      target_nodes: ['worker-3', 'worker-2'],
      dry_run: true,
    });

    // Pods are evaluated by name: dry-also-... comes first.
    const would = await decisionFor('dry-run', second, 'would-migrate');
    expect(would).toMatchObject({
      node: 'worker-1',
      usage: '950m',
      target_node: 'worker-3',
      reason: 'dry run: would migrate the pod from worker-1 to worker-3',
    });
    expect(would.migration_id).toBeUndefined();

    // As live, one run would start one of the two hot pods: the other meets the
    // cooldown that start would begin (max_in_flight 1 as well).
    const [run] = (await readPolicy('dry-run')).evaluations;
    const decisions = run?.pods.map((seen) => [seen.pod, seen.decision]);
    expect(decisions).toEqual([
      [second, 'would-migrate'],
      [hot, 'in-cooldown'],
    ]);

    // Several evaluations later, still nothing started.
    await eventually(async () => (await readPolicy('dry-run')).evaluations.length >= 3, {
      what: 'three evaluations of the dry-run policy',
    });
    expect((await readPolicy('dry-run')).started_migrations).toEqual([]);
    expect(await migrationsOf(hot)).toEqual([]);
    expect(await migrationsOf(second)).toEqual([]);
    expect((await h.readPodOrNull(hot))?.spec?.nodeName).toBe('worker-1');

    await h.api('/api/v1/policies/dry-run', { method: 'DELETE' });
  });
});
