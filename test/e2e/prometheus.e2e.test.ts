import { readFileSync } from 'node:fs';

import { loadYaml, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { eventually } from '../setup/kube.ts';
import { OrchestratorHarness } from '../support/orchestrator-harness.ts';
import {
  requirePrometheusTool,
  startPrometheus,
  type RunningPrometheus,
} from '../support/prometheus.ts';

const SAMPLE = loadYaml<V1Pod>(
  readFileSync(new URL('../../examples/tf-train-0.yaml', import.meta.url), 'utf8'),
);
const DASHBOARD = JSON.parse(
  readFileSync(new URL('../../k8s/monitoring/dashboard.json', import.meta.url), 'utf8'),
) as unknown;
const ALERTS = loadYaml<{ groups: { rules: { alert: string; expr: string }[] }[] }>(
  readFileSync(new URL('../../k8s/monitoring/alerts.yaml', import.meta.url), 'utf8'),
);

/** The new pod of this annotation never becomes Ready: its migration fails or is cancelled. */
const STUCK = { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' };

let h: OrchestratorHarness;
let prometheus: RunningPrometheus;

beforeAll(async () => {
  // Before the cluster work: a missing tool must say how to install it, at once.
  requirePrometheusTool('prometheus');
  h = await OrchestratorHarness.start('prom', inject('kubeconfigPath'));
  const { apiUrl, apiReadOnlyToken, workerMetricsUrls } = h.system;
  prometheus = await startPrometheus([
    { name: 'aso-api', urls: [apiUrl], bearerToken: apiReadOnlyToken },
    { name: 'aso-workers', urls: Object.values(workerMetricsUrls) },
  ]);
});

afterAll(async () => {
  await prometheus.stop();
  await h.stop();
});

/** Sums an expression's samples; 0 when it has none. */
async function total(expression: string): Promise<number> {
  const samples = await prometheus.query(expression);
  return samples.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
}

/** Waits until Prometheus has scraped a value that satisfies `holds`. */
function scraped(expression: string, holds: (value: number) => boolean): Promise<number> {
  return eventually(
    async () => {
      const value = await total(expression);
      return holds(value) ? value : undefined;
    },
    { timeoutMs: 20_000, what: `Prometheus to see ${expression}` },
  );
}

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

/** A completed, a failed (deadline) and a cancelled migration, at the same time. */
async function runThreeMigrations(): Promise<MigrationRecord[]> {
  const completed = async () => {
    await h.createPod(SAMPLE);
    await sampleSettled('tf-train-0');
    const accepted = await h.submit({
      pod_name: 'tf-train-0',
      source_node: 'worker-1',
      target_node: 'worker-2',
    });
    return h.finished(accepted.migration_id);
  };
  const failed = async () => {
    const pod = await h.podOn('worker-3', { prefix: 'late', annotations: STUCK });
    const accepted = await h.submit({
      pod_name: pod.metadata?.name,
      source_node: 'worker-3',
      target_node: 'worker-2',
      timeout: 30,
    });
    return h.finished(accepted.migration_id, 60_000);
  };
  const cancelled = async () => {
    const pod = await h.podOn('worker-3', { prefix: 'cancelled', annotations: STUCK });
    const accepted = await h.submit({
      pod_name: pod.metadata?.name,
      source_node: 'worker-3',
      target_node: 'worker-2',
    });
    await eventually(
      async () => {
        const { body } = await h.api(`/api/v1/migrations/${accepted.migration_id}`);
        return (body as MigrationRecord).progress.new_pod_created;
      },
      { timeoutMs: 30_000, what: 'the new pod to be created' },
    );
    await h.api(`/api/v1/migrations/${accepted.migration_id}`, { method: 'DELETE' });
    return h.finished(accepted.migration_id, 45_000);
  };

  return Promise.all([completed(), failed(), cancelled()]);
}

describe('metrics scraped by a real Prometheus', () => {
  it('scrapes the API and the three workers', async () => {
    const up = await eventually(
      async () => {
        const samples = await prometheus.query('up == 1');
        return samples.length === 4 ? samples : undefined;
      },
      { timeoutMs: 20_000, what: 'all four targets to be up' },
    );
    expect(up.map((s) => s.metric['job']).sort()).toEqual([
      'aso-api',
      'aso-workers',
      'aso-workers',
      'aso-workers',
    ]);
  });

  it('counts migrations, stages, Kubernetes requests, queue depth and savings', async () => {
    const records = await runThreeMigrations();
    expect(records.map((r) => r.status)).toEqual(['completed', 'failed', 'cancelled']);

    await scraped('sum(aso_migrations_started_total)', (v) => v === 3);
    for (const result of ['completed', 'failed', 'cancelled']) {
      await scraped(`sum(aso_migrations_finished_total{result="${result}"})`, (v) => v === 1);
      await scraped(
        `sum(aso_migration_duration_seconds_count{result="${result}"})`,
        (v) => v === 1,
      );
    }
    // The failed one ran out of time: at least 30 s, in the buckets from 30 s up.
    await scraped(
      'sum(aso_migration_duration_seconds_bucket{result="failed", le="20"})',
      (v) => v === 0,
    );

    for (const stage of ['capture', 'pod', 'metrics']) {
      await scraped(
        `sum(aso_stage_duration_seconds_count{stage="${stage}", outcome="succeeded"})`,
        (v) => v >= 1,
      );
      await scraped(`sum(aso_stage_wait_seconds_count{stage="${stage}"})`, (v) => v >= 1);
    }
    await scraped(
      'sum(aso_stage_duration_seconds_count{stage="pod", outcome="failed"})',
      (v) => v === 1,
    );

    // Every service's calls, by verb and resource, with no object names.
    await scraped(
      'sum(aso_kubernetes_requests_total{service="api", verb="get", resource="pods", code="200"})',
      (v) => v >= 3,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="api", verb="get", resource="nodes"})',
      (v) => v >= 3,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="capture-worker", verb="get", resource="pods.metrics.k8s.io"})',
      (v) => v >= 1,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="pod-worker", verb="create", resource="pods", code="201"})',
      (v) => v >= 3,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="pod-worker", verb="create", resource="pods/eviction", code=~"20."})',
      (v) => v >= 1,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="pod-worker", verb="watch", resource="pods"})',
      (v) => v >= 1,
    );
    await scraped(
      'sum(aso_kubernetes_requests_total{service="metrics-worker", resource="pods.metrics.k8s.io"})',
      (v) => v >= 1,
    );
    await scraped(
      'sum(aso_kubernetes_request_duration_seconds_count{service="pod-worker", verb="get", resource="pods"})',
      (v) => v >= 1,
    );

    // The API reports every stage queue, in every state.
    await scraped('count(aso_stage_queue_jobs{service="api"})', (v) => v === 18);
    await scraped('sum(aso_stage_queue_jobs{state="completed"})', (v) => v >= 3);

    // The sample's data loader stayed behind: requested CPU fell from 1600m to 1100m.
    await scraped(
      'sum(aso_migration_cpu_cores_total{source="requested", side="before"}) - sum(aso_migration_cpu_cores_total{source="requested", side="after"})',
      (v) => Math.abs(v - 0.5) < 1e-9,
    );
    await scraped(
      'sum(aso_migration_memory_bytes_total{source="requested", side="before"}) - sum(aso_migration_memory_bytes_total{source="requested", side="after"})',
      (v) => v === 512 * 1024 * 1024,
    );
    await scraped('count(aso_migration_cpu_cores_total{source="measured"})', (v) => v === 2);
  });

  it('keeps label values bounded: no pod, namespace or migration id in any label', async () => {
    const series = await prometheus.query('{__name__=~"aso_.+"}');
    const forbidden = [h.namespace.name, 'tf-train-0', 'late-', 'cancelled-'];
    const values = new Set(series.flatMap((s) => Object.values(s.metric)));

    for (const value of values) {
      expect(
        forbidden.some((word) => value.includes(word)),
        value,
      ).toBe(false);
      expect(value, 'a migration id in a label').not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    }
  });

  it('has a dashboard whose every query parses and names exported metrics only', async () => {
    const expressions = dashboardExpressions(DASHBOARD);
    expect(expressions.length).toBeGreaterThanOrEqual(15);
    await checkExpressions(expressions);
  });

  it('has alert rules that Prometheus parses and that name exported metrics only', async () => {
    const expressions = ALERTS.groups.flatMap((group) => group.rules.map((rule) => rule.expr));
    expect(expressions.length).toBeGreaterThanOrEqual(5);
    await checkExpressions(expressions);
  });
});

/** Grafana's range variables, as a Prometheus query can take them. */
const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: '1m',
  $__interval: '1m',
  $__range: '1h',
};

function dashboardExpressions(dashboard: unknown): string[] {
  const panels = (dashboard as { panels: { targets?: { expr?: string }[] }[] }).panels;
  return panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ''));
}

/**
 * Prometheus parses each expression (a parse error fails the query), and every
 * metric it names was scraped from the services, histogram series included.
 */
async function checkExpressions(expressions: string[]): Promise<void> {
  const exported = new Set(await prometheus.metricNames());
  expect(exported.has('aso_kubernetes_requests_total')).toBe(true);

  for (const raw of expressions) {
    const expression = Object.entries(GRAFANA_VARIABLES).reduce(
      (text, [name, value]) => text.replaceAll(name, value),
      raw,
    );
    await expect(prometheus.query(expression), expression).resolves.toBeDefined();

    for (const name of metricNames(expression)) {
      expect(exported.has(name), `${name} in ${raw}`).toBe(true);
    }
  }
}

/** Metric names in an expression: our prefixes, outside label matchers and strings. */
function metricNames(expression: string): string[] {
  const withoutMatchers = expression.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""');
  return [...withoutMatchers.matchAll(/\b(?:aso|process|nodejs)_[a-z0-9_]+/g)].map(
    (match) => match[0],
  );
}
