import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parsePodDirectives } from './annotations.ts';
import type { PreviousCondition } from './pod-conditions.ts';
import type { PodStatusResult } from './pod-status.ts';
import { computePodStatus } from './pod-status.ts';
import { terminatedPodStatus } from './pod-termination.ts';
import type { ContainerStatusDocument, PodStatusDocument } from './status-documents.ts';
import { formatApiTime } from './time.ts';

const ADMITTED = Date.parse('2030-01-01T00:00:00Z');
const SANDBOX = ADMITTED + 1000;
const TIMINGS = { backOff: { initialMs: 1000, maxMs: 8000 }, initContainerSeconds: 1 };
const ADDRESSES = { hostIP: '10.240.0.10', podIP: '10.244.1.7' };

function pod(
  spec: Partial<NonNullable<V1Pod['spec']>>,
  annotations: Record<string, string> = {},
): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-1', generation: 1, annotations },
    spec: { containers: [{ name: 'main', image: 'nginx:1.27' }], ...spec },
  };
}

interface At {
  sandboxReadyAt?: number | undefined;
  previousConditions?: PreviousCondition[];
}

function statusAt(subject: V1Pod, now: number, at: At = {}): PodStatusResult {
  const sandboxReadyAt = 'sandboxReadyAt' in at ? at.sandboxReadyAt : SANDBOX;
  return computePodStatus({
    pod: subject,
    directives: parsePodDirectives(subject.metadata?.annotations).directives,
    clock: { now, admittedAt: ADMITTED, sandboxReadyAt },
    addresses: ADDRESSES,
    timings: TIMINGS,
    previousConditions: at.previousConditions ?? [],
  });
}

function container(status: PodStatusDocument, name: string): ContainerStatusDocument | undefined {
  return [...(status.initContainerStatuses ?? []), ...status.containerStatuses].find(
    (entry) => entry.name === name,
  );
}

function conditionStatus(status: PodStatusDocument, type: string): string | undefined {
  return status.conditions.find((entry) => entry.type === type)?.status;
}

const seconds = (count: number): number => count * 1000;

describe('computePodStatus before the sandbox is ready', () => {
  it('reports a Pending pod with containers in ContainerCreating and no pod IP', () => {
    const { status, nextChangeAt } = statusAt(pod({}), ADMITTED + 200);

    expect(status.phase).toBe('Pending');
    expect(status.podIP).toBeUndefined();
    expect(status.hostIP).toBe(ADDRESSES.hostIP);
    expect(status.startTime).toBe(formatApiTime(ADMITTED));
    expect(container(status, 'main')?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(conditionStatus(status, 'PodReadyToStartContainers')).toBe('False');
    expect(conditionStatus(status, 'Initialized')).toBe('True');
    expect(conditionStatus(status, 'Ready')).toBe('False');
    expect(nextChangeAt).toBe(SANDBOX);
  });

  it('waits without a timer while volumes are not ready', () => {
    const { status, nextChangeAt } = statusAt(pod({}), ADMITTED + seconds(60), {
      sandboxReadyAt: undefined,
    });

    expect(status.phase).toBe('Pending');
    expect(nextChangeAt).toBeUndefined();
  });
});

describe('computePodStatus for running containers', () => {
  it('reports Running with IPs, container details and all conditions True once ready', () => {
    const { status, nextChangeAt, terminal } = statusAt(pod({}), SANDBOX + seconds(2));
    const main = container(status, 'main');

    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe(ADDRESSES.podIP);
    expect(status.podIPs).toEqual([{ ip: ADDRESSES.podIP }]);
    expect(status.hostIPs).toEqual([{ ip: ADDRESSES.hostIP }]);
    expect(status.observedGeneration).toBe(1);
    expect(main).toMatchObject({
      image: 'docker.io/library/nginx:1.27',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: formatApiTime(SANDBOX) } },
    });
    expect(main?.imageID).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    expect(main?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    for (const type of [
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]) {
      expect(conditionStatus(status, type)).toBe('True');
    }
    expect(nextChangeAt).toBeUndefined();
    expect(terminal).toBe(false);
  });

  it('holds readiness back for the ready-after delay', () => {
    const subject = pod({}, { 'sim.aso.dev/ready-after': '5' });
    const early = statusAt(subject, SANDBOX + seconds(2));

    expect(container(early.status, 'main')).toMatchObject({ started: true, ready: false });
    expect(conditionStatus(early.status, 'Ready')).toBe('False');
    expect(early.nextChangeAt).toBe(SANDBOX + seconds(5));
    expect(container(statusAt(subject, SANDBOX + seconds(5)).status, 'main')?.ready).toBe(true);
  });

  it('keeps transition times of conditions whose status did not change', () => {
    const earlier = '2029-12-31T23:00:00Z';
    const previousConditions = [
      { type: 'Ready', status: 'True', lastTransitionTime: earlier },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(earlier) },
    ];
    const { status } = statusAt(pod({}), SANDBOX + seconds(3), { previousConditions });

    expect(status.conditions.find((entry) => entry.type === 'Ready')?.lastTransitionTime).toBe(
      earlier,
    );
    expect(status.conditions.find((entry) => entry.type === 'PodScheduled')).toBeUndefined();
    expect(
      status.conditions.find((entry) => entry.type === 'ContainersReady')?.lastTransitionTime,
    ).toBe(formatApiTime(SANDBOX + seconds(3)));
  });

  it('keeps Ready False while a readiness gate is not True', () => {
    const subject = pod({ readinessGates: [{ conditionType: 'example.com/warm' }] });
    const { status } = statusAt(subject, SANDBOX + seconds(3));
    const ready = status.conditions.find((entry) => entry.type === 'Ready');

    expect(conditionStatus(status, 'ContainersReady')).toBe('True');
    expect(ready).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
  });

  it('reports a blocked container as waiting with its reason and the pod as Pending', () => {
    const subject = pod({}, { 'sim.aso.dev/waiting': 'main=ImagePullBackOff' });
    const { status, nextChangeAt } = statusAt(subject, SANDBOX + seconds(30));

    expect(status.phase).toBe('Pending');
    expect(container(status, 'main')).toMatchObject({
      ready: false,
      started: false,
      imageID: '',
      state: {
        waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nginx:1.27"' },
      },
    });
    expect(nextChangeAt).toBeUndefined();
  });
});

describe('computePodStatus for exiting containers', () => {
  it('ends a restartPolicy Never pod Succeeded when its containers exit 0', () => {
    const subject = pod({ restartPolicy: 'Never' }, { 'sim.aso.dev/exit': 'main=0@2' });
    const running = statusAt(subject, SANDBOX + seconds(1));
    const done = statusAt(subject, SANDBOX + seconds(10));

    expect(running.nextChangeAt).toBe(SANDBOX + seconds(2));
    expect(done.status.phase).toBe('Succeeded');
    expect(done.terminal).toBe(true);
    expect(container(done.status, 'main')?.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
      startedAt: formatApiTime(SANDBOX),
      finishedAt: formatApiTime(SANDBOX + seconds(2)),
    });
    expect(conditionStatus(done.status, 'Ready')).toBe('False');
    expect(done.nextChangeAt).toBeUndefined();
  });

  it('ends a restartPolicy Never pod Failed when a container exits non-zero', () => {
    const subject = pod(
      {
        restartPolicy: 'Never',
        containers: [
          { name: 'main', image: 'app' },
          { name: 'helper', image: 'app' },
        ],
      },
      { 'sim.aso.dev/exit': 'main=3@1,helper=0@2' },
    );
    const halfway = statusAt(subject, SANDBOX + seconds(1.5));
    const done = statusAt(subject, SANDBOX + seconds(3));

    expect(halfway.status.phase).toBe('Running');
    expect(container(halfway.status, 'main')?.state.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    expect(done.status.phase).toBe('Failed');
  });

  it('restarts under Always with a growing back-off shown as CrashLoopBackOff', () => {
    const subject = pod({}, { 'sim.aso.dev/exit': 'main=1@1' });
    // Runs: [0,1] back-off 1 s, [2,3] back-off 2 s, [5,6] back-off 4 s, [10,11] ...
    const backingOff = statusAt(subject, SANDBOX + seconds(3.5));
    const main = container(backingOff.status, 'main');

    expect(backingOff.status.phase).toBe('Running');
    expect(main?.restartCount).toBe(1);
    expect(main?.state.waiting?.reason).toBe('CrashLoopBackOff');
    expect(main?.state.waiting?.message).toContain(
      'back-off 2s restarting failed container=main pod=web_shop(uid-1)',
    );
    expect(main?.lastState.terminated).toMatchObject({
      exitCode: 1,
      finishedAt: formatApiTime(SANDBOX + seconds(3)),
    });
    expect(backingOff.nextChangeAt).toBe(SANDBOX + seconds(5));

    const restarted = container(statusAt(subject, SANDBOX + seconds(10.5)).status, 'main');
    expect(restarted?.restartCount).toBe(3);
    expect(restarted?.state.running?.startedAt).toBe(formatApiTime(SANDBOX + seconds(10)));
  });

  it('caps the back-off', () => {
    const subject = pod({}, { 'sim.aso.dev/exit': 'main=1@0' });
    const late = container(statusAt(subject, SANDBOX + seconds(120)).status, 'main');

    expect(late?.restartCount).toBeGreaterThan(10);
    expect(late?.state.waiting?.message).toContain('back-off 8s');
  });

  it('restarts only failures under OnFailure', () => {
    const succeeds = pod({ restartPolicy: 'OnFailure' }, { 'sim.aso.dev/exit': 'main=0@1' });
    const fails = pod({ restartPolicy: 'OnFailure' }, { 'sim.aso.dev/exit': 'main=2@1' });

    expect(statusAt(succeeds, SANDBOX + seconds(5)).status.phase).toBe('Succeeded');
    const failing = statusAt(fails, SANDBOX + seconds(5));
    expect(failing.status.phase).toBe('Running');
    expect(container(failing.status, 'main')?.restartCount).toBe(2);
  });
});

describe('computePodStatus with init containers', () => {
  const withInit = pod(
    {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'setup', image: 'busybox' },
        { name: 'proxy', image: 'envoy', restartPolicy: 'Always' },
        { name: 'migrate', image: 'busybox' },
      ],
    },
    { 'sim.aso.dev/exit': 'migrate=0@2,main=0@3' },
  );

  it('runs classic init containers in order before the app containers start', () => {
    const { status } = statusAt(withInit, SANDBOX + seconds(1.5));

    expect(status.phase).toBe('Pending');
    expect(container(status, 'setup')).toMatchObject({
      ready: true,
      state: { terminated: { reason: 'Completed' } },
    });
    expect(container(status, 'proxy')?.state.running).toBeDefined();
    expect(container(status, 'migrate')?.state.running?.startedAt).toBe(
      formatApiTime(SANDBOX + seconds(1)),
    );
    expect(container(status, 'main')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(status.conditions.find((entry) => entry.type === 'Initialized')).toMatchObject({
      status: 'False',
      message: 'containers with incomplete status: [migrate]',
    });
  });

  it('keeps the sidecar running beside the app and stops it when the pod completes', () => {
    const running = statusAt(withInit, SANDBOX + seconds(4));
    const done = statusAt(withInit, SANDBOX + seconds(10));

    expect(running.status.phase).toBe('Running');
    expect(container(running.status, 'proxy')?.state.running).toBeDefined();
    expect(done.status.phase).toBe('Succeeded');
    expect(container(done.status, 'proxy')?.state.terminated).toMatchObject({
      exitCode: 0,
      finishedAt: formatApiTime(SANDBOX + seconds(6)),
    });
  });

  it('fails a restartPolicy Never pod whose init container fails', () => {
    const failing = pod(
      { restartPolicy: 'Never', initContainers: [{ name: 'setup', image: 'busybox' }] },
      { 'sim.aso.dev/exit': 'setup=1@1' },
    );
    const { status, terminal } = statusAt(failing, SANDBOX + seconds(2));

    expect(status.phase).toBe('Failed');
    expect(terminal).toBe(true);
    expect(container(status, 'main')?.state.waiting?.reason).toBe('PodInitializing');
  });
});

describe('terminatedPodStatus', () => {
  it('stops running containers with exit 0 and ends the pod Succeeded', () => {
    const live = statusAt(pod({}), SANDBOX + seconds(5)).status;
    const stopped = terminatedPodStatus(live, SANDBOX + seconds(6));

    expect(stopped.phase).toBe('Succeeded');
    expect(container(stopped, 'main')?.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
      finishedAt: formatApiTime(SANDBOX + seconds(6)),
    });
    expect(conditionStatus(stopped, 'Ready')).toBe('False');
    expect(conditionStatus(stopped, 'PodReadyToStartContainers')).toBe('False');
  });

  it('reports containers that never started as unknown and the pod Failed', () => {
    const live = statusAt(pod({}), ADMITTED + 100).status;
    const stopped = terminatedPodStatus(live, ADMITTED + 500);

    expect(stopped.phase).toBe('Failed');
    expect(container(stopped, 'main')?.state.terminated).toMatchObject({
      exitCode: 137,
      reason: 'ContainerStatusUnknown',
    });
  });
});
