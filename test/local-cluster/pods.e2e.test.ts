import { CoreV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestNamespace } from '../setup/kube.ts';
import { createTestNamespace, eventually, loadTestKubeConfig, waitForPod } from '../setup/kube.ts';
import {
  container,
  containerStatus,
  hasPhase,
  isReady,
  onNode,
  podCondition,
  podManifest,
} from './fixtures.ts';
import type { PodOptions } from './fixtures.ts';

let kubeConfig: KubeConfig;
let core: CoreV1Api;
let namespace: TestNamespace;

interface PhaseRecorder {
  phases: string[];
  stop(): void;
}

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  namespace = await createTestNamespace(kubeConfig, 'pods');
});

afterAll(async () => {
  await namespace.delete();
});

async function createPod(name: string, options: PodOptions = {}): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace: namespace.name, body: podManifest(name, options) });
}

function waitFor(name: string, predicate: (pod: V1Pod | undefined) => boolean, what: string) {
  return waitForPod(kubeConfig, namespace.name, name, predicate, { what: `${name}: ${what}` });
}

describe('pods on simulated nodes', () => {
  it('schedules a pod by node affinity and reports it Running and Ready like a kubelet', async () => {
    await createPod('affine', {
      spec: {
        ...onNode('worker-2'),
        initContainers: [container('setup', 'busybox:1.36', ['true'])],
      },
    });

    const pod = await waitFor('affine', isReady, 'Ready');
    const status = pod?.status;
    const main = containerStatus(pod, 'main');
    const setup = containerStatus(pod, 'setup');

    expect(pod?.spec?.nodeName).toBe('worker-2');
    expect(status?.phase).toBe('Running');
    expect(status?.hostIP).toBe('10.240.0.11');
    expect(status?.hostIPs).toEqual([{ ip: '10.240.0.11' }]);
    expect(status?.podIP).toMatch(/^10\.244\.2\.\d+$/);
    expect(status?.podIPs).toEqual([{ ip: status?.podIP }]);
    expect(status?.startTime).toBeInstanceOf(Date);
    for (const type of [
      'PodScheduled',
      'PodReadyToStartContainers',
      'Initialized',
      'ContainersReady',
      'Ready',
    ]) {
      expect(podCondition(pod, type)?.status, type).toBe('True');
      expect(podCondition(pod, type)?.lastTransitionTime, type).toBeInstanceOf(Date);
    }
    expect(main).toMatchObject({
      name: 'main',
      image: 'docker.io/library/busybox:1.36',
      ready: true,
      started: true,
      restartCount: 0,
    });
    expect(main?.imageID).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(main?.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(main?.state?.running?.startedAt).toBeInstanceOf(Date);
    expect(setup?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // The ServiceAccount admission plugin injected the API token volume, as on a real cluster.
    expect(pod?.spec?.volumes?.some((volume) => volume.name.startsWith('kube-api-access-'))).toBe(
      true,
    );
  });

  it('leaves a restartPolicy Never pod Succeeded after its containers exit 0', async () => {
    await createPod('never-ok', {
      annotations: { 'sim.aso.dev/exit': 'main=0@1' },
      spec: { restartPolicy: 'Never' },
    });

    const pod = await waitFor('never-ok', hasPhase('Succeeded'), 'Succeeded');

    expect(containerStatus(pod, 'main')?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(containerStatus(pod, 'main')?.restartCount).toBe(0);
    expect(podCondition(pod, 'Ready')?.status).toBe('False');
  });

  it('leaves a restartPolicy Never pod Failed after a container exits non-zero', async () => {
    await createPod('never-fail', {
      annotations: { 'sim.aso.dev/exit': 'main=3@1,helper=0@1' },
      spec: { restartPolicy: 'Never', containers: [container('main'), container('helper')] },
    });

    const pod = await waitFor('never-fail', hasPhase('Failed'), 'Failed');

    expect(containerStatus(pod, 'main')?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
    expect(containerStatus(pod, 'helper')?.state?.terminated).toMatchObject({ exitCode: 0 });
  });

  it('restarts failures under OnFailure until the pod succeeds or keeps failing', async () => {
    await createPod('onfailure-ok', {
      annotations: { 'sim.aso.dev/exit': 'main=0@1' },
      spec: { restartPolicy: 'OnFailure' },
    });
    await createPod('onfailure-crash', {
      annotations: { 'sim.aso.dev/exit': 'main=1@1' },
      spec: { restartPolicy: 'OnFailure' },
    });

    const succeeded = await waitFor('onfailure-ok', hasPhase('Succeeded'), 'Succeeded');
    const crashing = await waitFor(
      'onfailure-crash',
      (pod) => (containerStatus(pod, 'main')?.restartCount ?? 0) >= 2,
      'two restarts',
    );

    expect(containerStatus(succeeded, 'main')?.restartCount).toBe(0);
    expect(crashing?.status?.phase).toBe('Running');
    expect(containerStatus(crashing, 'main')?.lastState?.terminated).toMatchObject({
      exitCode: 1,
      reason: 'Error',
    });
  });

  it('restarts any exit under Always, backing off in CrashLoopBackOff', async () => {
    await createPod('always-crash', { annotations: { 'sim.aso.dev/exit': 'main=0@1' } });

    const backingOff = await waitFor(
      'always-crash',
      (pod) => containerStatus(pod, 'main')?.state?.waiting?.reason === 'CrashLoopBackOff',
      'CrashLoopBackOff',
    );
    const restarted = await waitFor(
      'always-crash',
      (pod) => (containerStatus(pod, 'main')?.restartCount ?? 0) >= 3,
      'three restarts',
    );

    expect(backingOff?.status?.phase).toBe('Running');
    expect(containerStatus(backingOff, 'main')?.state?.waiting?.message).toMatch(
      /^back-off \d+s restarting failed container=main/,
    );
    expect(containerStatus(backingOff, 'main')?.ready).toBe(false);
    expect(containerStatus(restarted, 'main')?.lastState?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
  });

  it('keeps a container waiting with the annotated reason', async () => {
    await createPod('pull-fails', {
      annotations: { 'sim.aso.dev/waiting': 'main=ImagePullBackOff' },
      spec: { containers: [container('main', 'registry.invalid/app:1')] },
    });

    const pod = await waitFor(
      'pull-fails',
      (candidate) =>
        containerStatus(candidate, 'main')?.state?.waiting?.reason === 'ImagePullBackOff',
      'ImagePullBackOff',
    );

    expect(pod?.status?.phase).toBe('Pending');
    expect(containerStatus(pod, 'main')).toMatchObject({
      ready: false,
      started: false,
      restartCount: 0,
    });
    expect(podCondition(pod, 'PodReadyToStartContainers')?.status).toBe('True');
    expect(podCondition(pod, 'Ready')?.status).toBe('False');
  });

  it('records an Event for an invalid annotation and still runs the pod', async () => {
    await createPod('typo', { annotations: { 'sim.aso.dev/exit': 'main=soon' } });

    await waitFor('typo', isReady, 'Ready');
    const event = await eventually(
      async () => {
        const fieldSelector = 'involvedObject.name=typo,reason=SimulatorAnnotationInvalid';
        return (await core.listNamespacedEvent({ namespace: namespace.name, fieldSelector }))
          .items[0];
      },
      { what: 'a SimulatorAnnotationInvalid event' },
    );

    expect(event.type).toBe('Warning');
    expect(event.message).toContain('sim.aso.dev/exit');
  });

  it('finishes a graceful deletion within the simulator cap, after writing terminated states', async () => {
    await createPod('graceful');
    const ready = await waitFor('graceful', isReady, 'Ready');
    const recorder = await recordPhases('graceful', ready?.metadata?.resourceVersion);
    const startedAt = Date.now();

    await core.deleteNamespacedPod({ name: 'graceful', namespace: namespace.name });
    const terminating = await core.readNamespacedPod({
      name: 'graceful',
      namespace: namespace.name,
    });
    await waitFor('graceful', (pod) => pod === undefined, 'deleted');
    const elapsedMs = Date.now() - startedAt;
    await eventually(() => Promise.resolve(recorder.phases.includes('DELETED')), {
      what: 'the DELETED watch event',
    });
    recorder.stop();

    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(30);
    // The cap is 2 s; deletion timestamps have whole seconds, so allow scheduling slack.
    expect(elapsedMs).toBeLessThan(5_000);
    expect(recorder.phases.slice(-2)).toEqual(['Succeeded', 'DELETED']);
  });
});

/** Watches one pod from a known version and collects its phases, then DELETED, in order. */
async function recordPhases(
  name: string,
  resourceVersion: string | undefined,
): Promise<PhaseRecorder> {
  const phases: string[] = [];
  const controller = await new Watch(kubeConfig).watch(
    `/api/v1/namespaces/${namespace.name}/pods`,
    { fieldSelector: `metadata.name=${name}`, resourceVersion },
    (type: string, object: V1Pod) => {
      phases.push(type === 'DELETED' ? 'DELETED' : (object.status?.phase ?? ''));
    },
    () => undefined,
  );
  return {
    phases,
    stop: () => {
      controller.abort();
    },
  };
}
