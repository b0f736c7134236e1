import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { createMigrationMetrics, createStageMetrics } from './metrics.ts';
import { newMigrationRecord, type MigrationRecord, type ResourceFigures } from './migration.ts';

function figures(cpuMillicores: number, memoryBytes: number, measured: boolean): ResourceFigures {
  return {
    requested: {
      cpu: `${cpuMillicores}m`,
      memory: String(memoryBytes),
      cpu_millicores: cpuMillicores,
      memory_bytes: memoryBytes,
      containers_without_requests: [],
    },
    measured: measured
      ? {
          status: 'measured',
          cpu: `${cpuMillicores / 2}m`,
          memory: String(memoryBytes / 2),
          cpu_millicores: cpuMillicores / 2,
          memory_bytes: memoryBytes / 2,
          timestamp: '2026-01-01T00:00:00Z',
          window: '30s',
          containers: [],
        }
      : { status: 'unmeasured', reason: 'no sample' },
  };
}

function completed(before: ResourceFigures, after: ResourceFigures): MigrationRecord {
  const record = newMigrationRecord(
    '8d2c7d2e-6a8e-4d43-9a57-0d6f0e1e1a11',
    {
      pod_name: 'p',
      pod_namespace: 'default',
      source_node: 'a',
      target_node: 'b',
      preserve_pv: false,
      timeout: 600,
      dry_run: false,
      force: false,
    },
    new Date('2026-01-01T00:00:00Z'),
  );
  record.status = 'completed';
  record.duration_ms = 42_000;
  record.details.original_resources = before;
  record.details.optimized_resources = after;
  return record;
}

async function value(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) =>
    Object.entries(labels).every(([key, wanted]) => String(v.labels[key]) === wanted),
  );
  return sample?.value;
}

describe('migration metrics', () => {
  it('counts an end by result, its duration, and the resources before and after', async () => {
    const registry = new Registry();
    const metrics = createMigrationMetrics(registry);

    metrics.countFinished(completed(figures(1600, 2048, true), figures(1100, 1024, true)));

    expect(await value(registry, 'aso_migrations_finished_total', { result: 'completed' })).toBe(1);
    expect(
      await value(registry, 'aso_migration_duration_seconds', { result: 'completed', le: '60' }),
    ).toBe(1);
    const cpu = (source: string, side: string) =>
      value(registry, 'aso_migration_cpu_cores_total', { source, side });
    expect(await cpu('requested', 'before')).toBe(1.6);
    expect(await cpu('requested', 'after')).toBe(1.1);
    expect(await cpu('measured', 'before')).toBe(0.8);
    expect(
      await value(registry, 'aso_migration_memory_bytes_total', {
        source: 'measured',
        side: 'after',
      }),
    ).toBe(512);
  });

  it('leaves the measured figures out when a side was not measured', async () => {
    const registry = new Registry();
    createMigrationMetrics(registry).countFinished(
      completed(figures(1000, 1000, true), figures(500, 500, false)),
    );

    expect(await value(registry, 'aso_migration_cpu_cores_total', { source: 'measured' })).toBe(
      undefined,
    );
  });

  it('shares one set of counters per registry, and ignores records that have not ended', async () => {
    const registry = new Registry();
    createMigrationMetrics(registry).countStarted();
    const again = createMigrationMetrics(registry);
    again.countStarted();
    const running = completed(figures(1, 1, false), figures(1, 1, false));
    running.status = 'running';
    again.countFinished(running);

    expect(await value(registry, 'aso_migrations_started_total', {})).toBe(2);
    const finished = await registry.getSingleMetric('aso_migrations_finished_total')?.get();
    expect(finished?.values.map((v) => v.value)).toEqual([0, 0, 0]);
  });
});

describe('stage attempts past their deadline', () => {
  it('counts running attempts whose deadline has passed, until they end', async () => {
    const registry = new Registry();
    let now = 1_000;
    const metrics = createStageMetrics(registry, { stages: ['pod'], now: () => now });
    const past = () => value(registry, 'aso_stage_attempts_past_deadline', { stage: 'pod' });

    const endLate = metrics.trackAttempt('pod', 5_000);
    const endUntimed = metrics.trackAttempt('pod', null);
    expect(await past()).toBe(0);

    now = 6_000;
    expect(await past()).toBe(1);

    endLate();
    endUntimed();
    expect(await past()).toBe(0);
  });
});
