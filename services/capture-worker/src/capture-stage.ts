import type { V1Pod } from '@kubernetes/client-node';

import {
  ANNOTATION_WORKLOAD,
  planMigration,
  readPodUsage,
  recordPodEvent,
  refuseUnfinishedOwner,
  sumRequests,
  type KubeClients,
  type MigrationPlan,
  type StageContext,
  type StageHandler,
  type SwitchStrategy,
} from '@aso/shared';

import { DEFAULT_CAPTURE_SETTINGS, type CaptureStageSettings } from './config.ts';

/**
 * The capture stage: reads the pod as it runs now, runs the pre-flight again on
 * that state (the gateway's check may be minutes old), and records each
 * container's state, the plan and the requested and measured resources, so that
 * later stages work from one consistent snapshot.
 */
export function createCaptureStage(
  kube: KubeClients,
  settings: CaptureStageSettings = DEFAULT_CAPTURE_SETTINGS,
): StageHandler {
  return {
    stage: 'capture',
    honoursDeadline: true,
    // Capture is where a migration starts to count: it only reads, and the stages
    // after it change the cluster.
    admission: {
      caps: { total: settings.maxInFlight, perSourceNode: settings.maxInFlightPerNode },
      retryDelayMs: settings.admissionRetryMs,
    },

    async run(context: StageContext) {
      const { request } = context.record;
      // The plan refuses a pod with nothing left to run, among its other checks.
      const { pod, plan, containerStates } = await planMigration(kube, request);
      // The gateway's check again: the pod may have become another migration's new pod.
      await refuseUnfinishedOwner((id) => context.store.get(id), pod, context.record.migration_id);
      const strategy = switchStrategy(plan);
      const measured = await readPodUsage(
        kube.customObjects,
        request.pod_namespace,
        request.pod_name,
      );

      await context.store.update(context.record.migration_id, (record) => {
        record.details.plan = plan;
        record.details.strategy = strategy;
        record.details.original_manifest = manifestOf(pod);
        record.details.source_pod_uid = pod.metadata?.uid ?? null;
        record.details.workload =
          pod.metadata?.annotations?.[ANNOTATION_WORKLOAD] ?? pod.metadata?.name ?? null;
        record.details.restart_policy = pod.spec?.restartPolicy ?? 'Always';
        record.details.container_states = containerStates;
        // Assigned, not appended: a retried capture must not repeat the warnings.
        record.details.warnings = [...plan.warnings];
        record.details.original_resources = {
          requested: sumRequests(pod.spec?.containers ?? []),
          measured,
        };
      });
      await recordPodEvent(kube.core, context.log, pod, {
        type: 'Normal',
        reason: 'MigrationPlanned',
        message: `migration ${context.record.migration_id} to ${request.target_node} planned (${strategy})`,
      });
      context.log.info(
        { kept: plan.kept_containers, strategy, measured: measured.status },
        'pod captured',
      );

      return { next: { stage: 'pod' } };
    },
  };
}

function switchStrategy(plan: MigrationPlan): SwitchStrategy {
  if (plan.controller.kind === 'ReplicaSet') return 'replicaset-handoff';
  return plan.volumes.strategy;
}

/** The original without what the API server owns: enough to create it again. */
function manifestOf(pod: V1Pod): V1Pod {
  const metadata = pod.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? 'default',
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
    },
    ...(pod.spec ? { spec: pod.spec } : {}),
  };
}
