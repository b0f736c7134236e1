/**
 * Stage handlers that do no Kubernetes work but write to the migration record (and
 * its event log) what the real capture, pod and metrics stages write, with the plan
 * of the fixture pod. Run inside the real stage worker wrapper over the real store
 * and queues, they give Redis the keys and record sizes of real migrations at the
 * speed of Redis alone. The pod stage can be held, to count what a migration keeps
 * while in flight.
 */
import {
  type MigrationRequestInput,
  type PlannedMigration,
  type ResourceFigures,
  type StageContext,
  type StageHandler,
} from '@aso/shared';

export interface StandIns {
  capture: StageHandler;
  pod: StageHandler;
  metrics: StageHandler;
  /** While held, pod stages wait in flight until release(). */
  hold(): void;
  release(): void;
  /** Migrations now waiting in a held pod stage. */
  held(): number;
}

type Planner = (request: MigrationRequestInput) => Promise<PlannedMigration>;

const RESOURCES: ResourceFigures = {
  requested: {
    cpu: '2',
    memory: '4Gi',
    cpu_millicores: 2000,
    memory_bytes: 4 * 2 ** 30,
    containers_without_requests: [],
  },
  measured: { status: 'unmeasured', reason: 'metrics.k8s.io has no sample for the pod yet' },
};

export function standInStages(planner: Planner): StandIns {
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  let waiting = 0;

  const capture: StageHandler = {
    stage: 'capture',
    honoursDeadline: true,
    // Caps high enough never to hold a migration back: admission still writes its keys.
    admission: { caps: { total: 10_000, perSourceNode: 10_000 }, retryDelayMs: 100 },
    async run(context) {
      const { pod, plan, containerStates } = await planner(context.record.request);
      await context.store.update(context.record.migration_id, (record) => {
        record.details.plan = plan;
        record.details.strategy = plan.volumes.strategy;
        record.details.original_manifest = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: pod.metadata?.name ?? '',
            namespace: pod.metadata?.namespace ?? 'default',
          },
          ...(pod.spec ? { spec: pod.spec } : {}),
        };
        record.details.source_pod_uid = pod.metadata?.uid ?? null;
        record.details.workload = pod.metadata?.name ?? null;
        record.details.restart_policy = pod.spec?.restartPolicy ?? 'Always';
        record.details.container_states = containerStates;
        record.details.warnings = [...plan.warnings];
        record.details.original_resources = RESOURCES;
      });
      return { next: { stage: 'pod' } };
    },
  };

  const pod: StageHandler = {
    stage: 'pod',
    honoursDeadline: true,
    async run(context) {
      if (gate) {
        waiting++;
        await gate;
        waiting--;
      }
      await podStageWrites(context);
      return { next: { stage: 'metrics' } };
    },
  };

  const metrics: StageHandler = {
    stage: 'metrics',
    honoursDeadline: false,
    async run(context) {
      const finished = context.now();
      await context.store.update(context.record.migration_id, (r) => {
        r.details.optimized_resources = RESOURCES;
        r.details.savings = {
          requested: { cpu_millicores: 0, memory_bytes: 0, cpu_percent: 0, memory_percent: 0 },
          measured: {
            status: 'unmeasured',
            reason: 'metrics.k8s.io has no sample for the pod yet',
          },
        };
        r.stages.metrics.finished_at = finished.toISOString();
        r.status = 'completed';
        r.message = 'migration completed';
        r.finished_at = finished.toISOString();
        r.duration_ms = finished.getTime() - Date.parse(r.created_at);
      });
      return {};
    },
  };

  return {
    capture,
    pod,
    metrics,
    hold() {
      gate ??= new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      open?.();
      gate = undefined;
    },
    held: () => waiting,
  };
}

/** The fields and events the pod stage leaves: the new pod, its readiness, the original's removal. */
async function podStageWrites(context: StageContext): Promise<void> {
  const { record } = context;
  const newPod = {
    name: `${record.request.pod_name}-m${record.migration_id.slice(0, 5)}`,
    node: record.request.target_node,
  };
  const at = context.now().toISOString();

  const after = await context.store.update(record.migration_id, (r) => {
    r.progress.new_pod_created = true;
    r.progress.switch_started = true;
    r.progress.original_removed = true;
    r.details.new_pod_name = newPod.name;
    r.details.new_pod_uid = '4f6d2b1e-8c3a-4d5e-9f7a-0b1c2d3e4f5a';
    r.details.new_pod_node = newPod.node;
    r.details.new_pod_ready_at = at;
    r.details.original_removed_at = at;
    r.details.removal = 'evicted';
    r.details.downtime_ms = 0;
  });
  await context.store.events.emit(
    after,
    { type: 'new-pod-created', message: 'new pod created', pod: newPod },
    context.log,
  );
  await context.store.events.emit(
    after,
    { type: 'pod-ready', message: 'new pod Ready', pod: newPod },
    context.log,
  );
  await context.store.events.emit(
    after,
    {
      type: 'original-removed',
      message: 'original pod evicted',
      pod: { name: record.request.pod_name, node: record.request.source_node },
    },
    context.log,
  );
}
