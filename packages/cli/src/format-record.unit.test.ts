import { describe, expect, it } from 'vitest';

import {
  buildMigrationPlan,
  captureContainerStates,
  newMigrationRecord,
  type MigrationRecord,
} from '@aso/shared';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { resourceFigures } from '../../../test/support/resource-figures.ts';
import { container, node, pod } from '../../shared/src/preflight/test-fixtures.ts';
import { describePlan, describeRecord, listTable, outcomeLines } from './format-record.ts';

const MI = 2 ** 20;
const ID = '6f1c2d3e-0000-4000-8000-000000000003';

const UNMEASURED = { status: 'unmeasured', reason: 'no sample yet' } as const;

function completedRecord(): MigrationRecord {
  const record = newMigrationRecord(ID, SAMPLE_REQUEST, new Date('2026-12-04T21:00:00Z'));
  record.status = 'completed';
  record.finished_at = '2026-12-04T21:00:23.400Z';
  record.duration_ms = 23_400;
  record.message = 'migration completed';
  Object.assign(record.details, {
    new_pod_name: 'tf-train-0-m6f1c2d',
    new_pod_node: 'worker-2',
    strategy: 'make-before-break',
    removal: 'evicted',
    downtime_ms: 0,
    original_resources: resourceFigures(1600, 2688, UNMEASURED),
    optimized_resources: resourceFigures(1100, 2176, UNMEASURED),
    savings: {
      requested: {
        cpu_millicores: 500,
        memory_bytes: 512 * MI,
        cpu_percent: 31.3,
        memory_percent: 19,
      },
      measured: { status: 'unmeasured', reason: 'original pod: no sample yet' },
    },
  });
  return record;
}

describe('a migration for people', () => {
  it('ends a completed migration with where the pod went and what it saved', () => {
    expect(outcomeLines(completedRecord())).toEqual([
      'completed in 23.4 s: default/tf-train-0 is now tf-train-0-m6f1c2d on worker-2',
      'strategy   make-before-break, original evicted, downtime 0 ms',
      'requested  cpu 1600m -> 1100m (saved 500m, 31.3%), memory 2688Mi -> 2176Mi (saved 512Mi, 19%)',
      'measured   not measured: original pod: no sample yet',
    ]);
  });

  it('ends a failed migration with its error and whether it was rolled back', () => {
    const record = newMigrationRecord(ID, SAMPLE_REQUEST, new Date('2026-12-04T21:00:00Z'));
    record.status = 'failed';
    record.duration_ms = 4_000;
    record.error = {
      code: 'new-pod-not-ready',
      message: 'the new pod never became Ready',
      stage: 'pod',
      rolled_back: true,
    };

    expect(outcomeLines(record)).toEqual([
      'failed in 4.0 s: new-pod-not-ready in the pod stage: the new pod never became Ready; rolled back, the original is as it was',
    ]);
  });

  it('describes a record a fact a line', () => {
    const lines = describeRecord(completedRecord());

    expect(lines[0]).toBe(`migration  ${ID}`);
    expect(lines[1]).toBe('status     completed (ended 2026-12-04T21:00:23.400Z, took 23.4 s)');
    expect(lines[2]).toBe('pod        default/tf-train-0 worker-1 -> worker-2');
    expect(lines).toContain('new pod    tf-train-0-m6f1c2d on worker-2');
    expect(lines).toContain('stages     capture -, pod -, metrics -');
  });

  it('lists migrations in aligned columns', () => {
    const second = {
      ...completedRecord(),
      migration_id: 'short',
      status: 'running' as const,
      stage: 'pod' as const,
    };
    expect(listTable([completedRecord(), second])).toEqual([
      'ID                                    STATUS     STAGE  POD                 NODES                 CREATED (UTC)',
      `${ID}  completed  -      default/tf-train-0  worker-1 -> worker-2  2026-12-04 21:00:00`,
      'short                                 running    pod    default/tf-train-0  worker-1 -> worker-2  2026-12-04 21:00:00',
    ]);
    expect(listTable([])).toEqual(['no migrations']);
  });

  it('prints a plan with its containers, requests and target capacity', () => {
    const original = pod('tf-train-0', {
      restartPolicy: 'Never',
      containers: [
        container('trainer', { cpu: '1', memory: '2Gi' }),
        container('loader', { cpu: '500m', memory: '512Mi' }),
      ],
    });
    original.status = {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'trainer',
          ready: true,
          restartCount: 0,
          image: 'x',
          imageID: 'x',
          state: { running: {} },
        },
        {
          name: 'loader',
          ready: false,
          restartCount: 0,
          image: 'x',
          imageID: 'x',
          state: { terminated: { exitCode: 0, reason: 'Completed' } },
        },
      ],
    };
    const plan = buildMigrationPlan({
      pod: original,
      sourceNode: 'worker-1',
      targetNode: node('worker-2'),
      podsOnTarget: [],
      claims: [],
      persistentVolumes: [],
      containerStates: captureContainerStates(original),
    });
    const lines = describePlan(plan);

    expect(lines[0]).toBe(
      'plan       default/tf-train-0 worker-1 -> worker-2 (dry run: nothing was changed)',
    );
    expect(lines).toContain(
      'requests   cpu 1500m -> 1000m, memory 2560Mi -> 2048Mi, QoS Burstable -> Burstable',
    );
    expect(lines.find((line) => line.startsWith('target'))).toBe(
      'target     worker-2 has cpu 4000m free of 4000m (needs 1000m), memory 8192Mi free of 8192Mi (needs 2048Mi)',
    );
    expect(lines.find((line) => line.includes('loader'))).toMatch(
      /^ {2}loader\s+app\s+completed\s+no\s+\S/,
    );
    expect(lines.find((line) => line.includes('trainer'))).toMatch(
      /^ {2}trainer\s+app\s+running\s+yes\s+\S/,
    );
  });
});
