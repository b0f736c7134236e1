import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { InsufficientCapacityError } from '../errors.ts';
import { capacityFigures, checkCapacity, schedulingRequest } from './capacity.ts';
import { container, node, pod } from './test-fixtures.ts';

const MI = 2 ** 20;
const GI = 2 ** 30;

const trainer = container('trainer', { cpu: '1', memory: '2Gi' });
const monitor = container('model-monitor', { cpu: '100m', memory: '128Mi' });

function running(
  name: string,
  nodeName: string,
  requests: Record<string, string>,
  phase = 'Running',
): V1Pod {
  const bound = pod(name, { nodeName, containers: [container('main', requests)] });
  bound.status = { phase };
  return bound;
}

describe('schedulingRequest', () => {
  it('sums the app containers', () => {
    expect(schedulingRequest({ containers: [trainer, monitor] })).toEqual({
      cpu_millicores: 1100,
      memory_bytes: 2176 * MI,
    });
  });

  it('takes, per resource, the larger of the app sum and the biggest init container', () => {
    const spec = {
      initContainers: [
        container('fetch-weights', { cpu: '2', memory: '512Mi' }),
        container('warm-cache', { cpu: '500m', memory: '1Gi' }),
      ],
      containers: [trainer, monitor],
    };
    expect(schedulingRequest(spec)).toEqual({ cpu_millicores: 2000, memory_bytes: 2176 * MI });
  });

  it('adds native sidecars to the app containers and to the init containers after them', () => {
    const spec = {
      initContainers: [
        container('proxy', { cpu: '200m', memory: '256Mi' }, undefined, 'Always'),
        container('migrate-db', { cpu: '1', memory: '1Gi' }),
      ],
      containers: [container('api', { cpu: '500m', memory: '512Mi' })],
    };
    // migrate-db runs beside proxy: 1200m and 1280Mi, more than proxy + api (700m, 768Mi).
    expect(schedulingRequest(spec)).toEqual({ cpu_millicores: 1200, memory_bytes: 1280 * MI });
  });

  it('does not add a sidecar to the init containers that run before it', () => {
    const spec = {
      initContainers: [
        container('migrate-db', { cpu: '1', memory: '1Gi' }),
        container('proxy', { cpu: '200m', memory: '256Mi' }, undefined, 'Always'),
      ],
      containers: [container('api', { cpu: '500m', memory: '512Mi' })],
    };
    expect(schedulingRequest(spec)).toEqual({ cpu_millicores: 1000, memory_bytes: 1024 * MI });
  });

  it('adds the RuntimeClass overhead', () => {
    const spec = { containers: [trainer], overhead: { cpu: '250m', memory: '120Mi' } };
    expect(schedulingRequest(spec)).toEqual({ cpu_millicores: 1250, memory_bytes: 2168 * MI });
  });

  it('uses pod-level requests where they are set, for that resource only', () => {
    const spec = { containers: [trainer, monitor], resources: { requests: { cpu: '2' } } };
    expect(schedulingRequest(spec)).toEqual({ cpu_millicores: 2000, memory_bytes: 2176 * MI });
  });

  it('counts a container without requests as zero', () => {
    expect(schedulingRequest({ containers: [container('idle')] })).toEqual({
      cpu_millicores: 0,
      memory_bytes: 0,
    });
  });
});

describe('capacityFigures', () => {
  const target = node('worker-2');
  const newPod = pod('tf-train-0-m1a2b3c', { containers: [trainer, monitor] });

  it('subtracts the requests of the non-terminal pods bound to the node', () => {
    const bound = [
      running('inference-0', 'worker-2', { cpu: '1', memory: '2Gi' }),
      running('starting-0', 'worker-2', { cpu: '500m', memory: '1Gi' }, 'Pending'),
      running('batch-done', 'worker-2', { cpu: '2', memory: '4Gi' }, 'Succeeded'),
      running('batch-failed', 'worker-2', { cpu: '2', memory: '4Gi' }, 'Failed'),
      running('elsewhere', 'worker-3', { cpu: '3', memory: '6Gi' }),
    ];
    const figures = capacityFigures(newPod, target, bound);

    expect(figures).toEqual({
      node: 'worker-2',
      cpu: {
        unit: 'millicores',
        requested: 1100,
        allocatable: 4000,
        in_use: 1500,
        free: 2500,
        fits: true,
      },
      memory: {
        unit: 'bytes',
        requested: 2176 * MI,
        allocatable: 8 * GI,
        in_use: 3 * GI,
        free: 5 * GI,
        fits: true,
      },
      pods: { unit: 'pods', requested: 1, allocatable: 110, in_use: 2, free: 108, fits: true },
      fits: true,
    });
  });

  it('lets a pod that requests nothing onto an overcommitted node, as the scheduler does', () => {
    const small = node('worker-2', { allocatable: { cpu: '1', memory: '1Gi', pods: '110' } });
    const bound = [running('hog', 'worker-2', { cpu: '2', memory: '2Gi' })];
    const figures = capacityFigures(pod('idle', { containers: [container('idle')] }), small, bound);

    expect(figures.cpu).toMatchObject({ free: -1000, fits: true });
    expect(figures.fits).toBe(true);
  });

  it('fits exactly the free amount', () => {
    const exact = pod('exact', { containers: [container('main', { cpu: '4', memory: '8Gi' })] });
    expect(capacityFigures(exact, target, []).fits).toBe(true);
  });

  it('gives no room on a node that reports no allocatable', () => {
    const bare = node('worker-2');
    delete bare.status?.allocatable;
    expect(capacityFigures(newPod, bare, []).pods.fits).toBe(false);
  });
});

describe('checkCapacity', () => {
  const target = node('worker-2');
  const busy = [running('inference-0', 'worker-2', { cpu: '1500m', memory: '6Gi' })];

  it('returns the figures when the pod fits', () => {
    const fitting = pod('small', { containers: [monitor] });
    expect(checkCapacity(fitting, target, busy).fits).toBe(true);
  });

  it('refuses CPU that does not fit, giving requested and free', () => {
    const greedy = pod('greedy', { containers: [container('main', { cpu: '3', memory: '1Gi' })] });
    const attempt = () => checkCapacity(greedy, target, busy);

    expect(attempt).toThrow(InsufficientCapacityError);
    expect(attempt).toThrow(
      'pod default/greedy does not fit on target_node worker-2 (cpu: requested 3, free 2500m of 4 allocatable)',
    );
  });

  it('lists every resource that does not fit', () => {
    const greedy = pod('greedy', { containers: [container('main', { cpu: '3', memory: '4Gi' })] });
    expect(() => checkCapacity(greedy, target, busy)).toThrow(
      /cpu: requested 3, free 2500m of 4 allocatable; memory: requested 4Gi, free 2Gi of 8Gi allocatable/,
    );
  });

  it('refuses a node whose pod slots are taken', () => {
    const full = node('worker-2', { allocatable: { cpu: '4', memory: '8Gi', pods: '2' } });
    const bound = [
      running('a', 'worker-2', { cpu: '100m' }),
      running('b', 'worker-2', { cpu: '100m' }),
    ];
    const attempt = () => checkCapacity(pod('small', { containers: [monitor] }), full, bound);

    expect(attempt).toThrow(/pods: requested 1, free 0 of 2 allocatable/);
  });

  it('is a permanent 422 with a stable code', () => {
    const greedy = pod('greedy', { containers: [container('main', { cpu: '64' })] });
    try {
      checkCapacity(greedy, target, []);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'insufficient-capacity', status: 422, permanent: true });
    }
  });
});
