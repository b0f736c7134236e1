import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  InsufficientCapacityError,
  NothingToMigrateError,
  PodNotOnSourceNodeError,
  PodTerminatingError,
  TargetNodeNotReadyError,
  UnsupportedControllerError,
} from '../errors.ts';
import type { ContainerState } from '../migration.ts';
import { buildMigrationPlan, type MigrationPlanInput } from './plan.ts';
import { claim, claimVolume, container, node, persistentVolume, pod } from './test-fixtures.ts';

const MI = 2 ** 20;

/** The README's sample: the loader finished under restartPolicy Never, the rest runs. */
function trainingPod(metadata: Partial<V1ObjectMeta> = {}): V1Pod {
  return pod(
    'tf-train-0',
    {
      nodeName: 'worker-1',
      restartPolicy: 'Never',
      initContainers: [
        container('fetch-weights', { cpu: '500m', memory: '1Gi' }),
        container('log-shipper', { cpu: '50m', memory: '64Mi' }, undefined, 'Always'),
      ],
      containers: [
        container('data-loader', { cpu: '500m', memory: '512Mi' }),
        container('trainer', { cpu: '1', memory: '2Gi' }),
        container('model-monitor', { cpu: '100m', memory: '128Mi' }),
      ],
      volumes: [
        claimVolume('checkpoint', 'tf-train-0-checkpoint'),
        { name: 'config', configMap: { name: 'trainer-config' } },
        { name: 'scratch', emptyDir: {} },
      ],
    },
    metadata,
  );
}

function state(name: string, run: ContainerState['state'], keep: boolean): ContainerState {
  return {
    name,
    state: run,
    reason: run === 'completed' ? 'Completed' : null,
    exit_code: run === 'completed' ? 0 : null,
    restart_count: 0,
    should_migrate: keep,
    decision: keep
      ? 'still running'
      : 'completed with exit code 0; restartPolicy Never would not run it again',
  };
}

function input(overrides: Partial<MigrationPlanInput> = {}): MigrationPlanInput {
  return {
    pod: trainingPod(),
    sourceNode: 'worker-1',
    targetNode: node('worker-2'),
    podsOnTarget: [],
    claims: [claim('tf-train-0-checkpoint', ['ReadWriteOnce'], 'pvc-3e1d')],
    persistentVolumes: [persistentVolume('pvc-3e1d', ['ReadWriteOnce'])],
    containerStates: [
      state('data-loader', 'completed', false),
      state('trainer', 'running', true),
      state('model-monitor', 'running', true),
    ],
    ...overrides,
  };
}

describe('buildMigrationPlan for the sample training pod', () => {
  const plan = buildMigrationPlan(input());

  it('names the pod and both nodes', () => {
    expect(plan.pod).toEqual({ namespace: 'default', name: 'tf-train-0', uid: 'uid-tf-train-0' });
    expect([plan.source_node, plan.target_node]).toEqual(['worker-1', 'worker-2']);
  });

  it('keeps init containers and sidecars, and the app containers capture kept', () => {
    expect(plan.containers.map((c) => [c.name, c.role, c.keep, c.state])).toEqual([
      ['fetch-weights', 'init', true, null],
      ['log-shipper', 'sidecar', true, null],
      ['data-loader', 'app', false, 'completed'],
      ['trainer', 'app', true, 'running'],
      ['model-monitor', 'app', true, 'running'],
    ]);
    expect(plan.containers[0]?.reason).toMatch(/runs again on the target/);
    expect(plan.containers[1]?.reason).toMatch(/native sidecar/);
    expect(plan.containers[2]?.reason).toMatch(/restartPolicy Never would not run it again/);
    expect(plan.kept_containers).toEqual(['trainer', 'model-monitor']);
  });

  it('reports the requests before and after, summed and as the scheduler counts them', () => {
    expect(plan.resources.before.requested).toMatchObject({ cpu: '1600m', memory: '2688Mi' });
    expect(plan.resources.after.requested).toMatchObject({ cpu: '1100m', memory: '2176Mi' });
    // The sidecar runs beside the app containers: 1100m + 50m, 2176Mi + 64Mi.
    expect(plan.resources.after.scheduling_request).toEqual({
      cpu_millicores: 1150,
      memory_bytes: 2240 * MI,
    });
    expect([plan.resources.before.qos_class, plan.resources.after.qos_class]).toEqual([
      'Burstable',
      'Burstable',
    ]);
  });

  it('checks capacity for the new pod', () => {
    expect(plan.capacity).toMatchObject({ node: 'worker-2', fits: true });
    expect(plan.capacity.cpu).toMatchObject({ requested: 1150, free: 4000 });
  });

  it('places the new pod through the scheduler on the target hostname', () => {
    expect(plan.placement).toMatchObject({
      target_node: 'worker-2',
      hostname: 'worker-2',
      method: 'scheduler-required-node-affinity',
      requirement: {
        match: 'label',
        key: 'kubernetes.io/hostname',
        operator: 'In',
        values: ['worker-2'],
      },
    });
    expect(plan.placement.description).toBe(
      'placed through the scheduler with a required node affinity on kubernetes.io/hostname In ' +
        "[worker-2], ANDed into the pod's own required terms",
    );
  });

  it('breaks before making for the ReadWriteOnce checkpoint claim', () => {
    expect(plan.volumes.strategy).toBe('break-before-make');
    expect(plan.volumes.volumes.map((v) => [v.name, v.single_node])).toEqual([
      ['checkpoint', true],
      ['config', false],
      ['scratch', false],
    ]);
  });

  it('has no controller to hand off to', () => {
    expect(plan.controller).toEqual({ kind: 'none' });
  });

  it('gathers the warnings', () => {
    expect(plan.warnings).toEqual([
      'emptyDir volume scratch starts empty on the target: its content is lost',
      expect.stringMatching(/^break-before-make: the workload is down/),
    ]);
  });

  it('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('buildMigrationPlan decisions', () => {
  it('warns when dropping a container changes the QoS class', () => {
    const limited = { cpu: '1', memory: '2Gi' };
    const qosPod = pod('tf-train-0', {
      containers: [container('data-loader'), container('trainer', limited, limited)],
    });
    const plan = buildMigrationPlan(
      input({
        pod: qosPod,
        containerStates: [
          state('data-loader', 'completed', false),
          state('trainer', 'running', true),
        ],
      }),
    );

    expect([plan.resources.before.qos_class, plan.resources.after.qos_class]).toEqual([
      'Burstable',
      'Guaranteed',
    ]);
    expect(plan.warnings).toContain(
      'the QoS class changes from Burstable to Guaranteed once the dropped containers are gone; ' +
        'eviction order and OOM score on the target follow the new class',
    );
  });

  it('keeps an app container that capture has no state for', () => {
    const plan = buildMigrationPlan(
      input({ containerStates: [state('data-loader', 'completed', false)] }),
    );
    expect(plan.kept_containers).toEqual(['trainer', 'model-monitor']);
    expect(plan.containers.find((c) => c.name === 'trainer')?.reason).toMatch(
      /no state was captured/,
    );
  });

  it('makes before breaking for a pod without claims, handing off its ReplicaSet', () => {
    const replicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8', uid: 'u' };
    const web = pod(
      'web-7d9f8-x2k4q',
      { containers: [container('nginx', { cpu: '100m' })] },
      { ownerReferences: [{ ...replicaSet, controller: true }] },
    );
    const plan = buildMigrationPlan(
      input({
        pod: web,
        claims: [],
        persistentVolumes: [],
        containerStates: [state('nginx', 'running', true)],
      }),
    );

    expect(plan.volumes.strategy).toBe('make-before-break');
    expect(plan.controller).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d9f8',
      strategy: 'replicaset-handoff',
    });
    expect(plan.warnings).toEqual([]);
  });

  it('selects a target without a hostname label by name, and says so', () => {
    const plan = buildMigrationPlan(input({ targetNode: node('worker-2', { labels: {} }) }));

    expect(plan.placement.requirement).toEqual({
      match: 'field',
      key: 'metadata.name',
      operator: 'In',
      values: ['worker-2'],
    });
    expect(plan.warnings).toContainEqual(
      expect.stringMatching(/has no kubernetes.io\/hostname label/),
    );
  });

  it('passes on the target node warnings', () => {
    const tainted = node('worker-2', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] });
    const plan = buildMigrationPlan(input({ targetNode: tainted }));
    expect(plan.warnings[0]).toMatch(/spot:PreferNoSchedule/);
  });

  it('fits a target by the kept containers only', () => {
    // 1600m would not fit beside the 2500m in use; the 1150m the new pod needs does.
    const busy = pod('inference-0', {
      nodeName: 'worker-2',
      containers: [container('main', { cpu: '2500m' })],
    });
    const plan = buildMigrationPlan(input({ podsOnTarget: [busy] }));
    expect(plan.capacity.cpu).toMatchObject({ requested: 1150, free: 1500, fits: true });
  });
});

describe('buildMigrationPlan refusals', () => {
  it('refuses a pod that is being deleted', () => {
    const deleting = trainingPod({ deletionTimestamp: new Date() });
    expect(() => buildMigrationPlan(input({ pod: deleting }))).toThrow(PodTerminatingError);
  });

  it('refuses a pod that is not on the source node', () => {
    const attempt = () => buildMigrationPlan(input({ sourceNode: 'worker-3' }));

    expect(attempt).toThrow(PodNotOnSourceNodeError);
    expect(attempt).toThrow(/runs on worker-1, not on source_node worker-3/);
  });

  it('refuses a pod that is not scheduled anywhere', () => {
    const pending = trainingPod();
    delete pending.spec?.nodeName;
    expect(() => buildMigrationPlan(input({ pod: pending }))).toThrow(
      /is not scheduled on any node/,
    );
  });

  it('refuses an unsupported controller before looking at the target', () => {
    const job = trainingPod({
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'train', uid: 'u', controller: true },
      ],
    });
    const attempt = () =>
      buildMigrationPlan(input({ pod: job, targetNode: node('worker-2', { ready: 'False' }) }));
    expect(attempt).toThrow(UnsupportedControllerError);
  });

  it('refuses a target that is not Ready', () => {
    const attempt = () =>
      buildMigrationPlan(input({ targetNode: node('worker-2', { ready: 'False' }) }));
    expect(attempt).toThrow(TargetNodeNotReadyError);
  });

  it('refuses when no app container is left to run, even with sidecars', () => {
    const done = ['data-loader', 'trainer', 'model-monitor'].map((name) =>
      state(name, 'completed', false),
    );
    const attempt = () => buildMigrationPlan(input({ containerStates: done }));

    expect(attempt).toThrow(NothingToMigrateError);
  });

  it('refuses a target where even the kept containers do not fit', () => {
    const busy = pod('inference-0', {
      nodeName: 'worker-2',
      containers: [container('main', { cpu: '3500m' })],
    });
    const attempt = () => buildMigrationPlan(input({ podsOnTarget: [busy] }));

    expect(attempt).toThrow(InsufficientCapacityError);
    expect(attempt).toThrow(
      /pod default\/tf-train-0 does not fit on target_node worker-2 \(cpu: requested 1150m, free 500m/,
    );
  });
});
