import {
  readPodUsage,
  type KubeClients,
  type MigrationRecord,
  type ResourceFigures,
  type StageHandler,
} from '@aso/shared';

import { computeSavings } from './savings.ts';

/**
 * The metrics stage: runs after the stabilisation delay (its job is delayed, so
 * no worker sleeps), measures the new pod through metrics.k8s.io, works out the
 * savings from real figures and completes the migration. The deadline no longer
 * applies here: the pod has already moved, and only the report remains.
 */
export function createMetricsStage(kube: KubeClients): StageHandler {
  return {
    stage: 'metrics',
    honoursDeadline: false,

    async run(context) {
      const { record } = context;
      const original = requireFigures(record, 'original_resources');
      const planned = requireFigures(record, 'optimized_resources');
      const measured = await readPodUsage(
        kube.customObjects,
        record.request.pod_namespace,
        record.details.new_pod_name ?? '',
      );

      const optimized: ResourceFigures = { requested: planned.requested, measured };
      const savings = computeSavings(original, optimized);
      const finished = context.now();

      await context.store.update(record.migration_id, (r) => {
        r.details.optimized_resources = optimized;
        r.details.savings = savings;
        r.stages.metrics.finished_at = finished.toISOString();
        r.status = 'completed';
        r.message = 'migration completed';
        r.finished_at = finished.toISOString();
        r.duration_ms = finished.getTime() - Date.parse(r.created_at);
      });
      context.log.info(
        { savings: savings.requested, measured: savings.measured.status },
        'migration completed',
      );
      return {};
    },
  };
}

function requireFigures(
  record: MigrationRecord,
  field: 'original_resources' | 'optimized_resources',
): ResourceFigures {
  const figures = record.details[field];
  if (!figures) throw new Error(`migration record lacks ${field}; earlier stages did not finish`);
  return figures;
}
