import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestNamespace } from '../setup/kube.ts';
import { createTestNamespace, eventually, loadTestKubeConfig, waitForPod } from '../setup/kube.ts';
import { container, isReady, onNode, podManifest } from './fixtures.ts';

const KUBECTL = join(fileURLToPath(new URL('../..', import.meta.url)), '.local', 'bin', 'kubectl');
const run = promisify(execFile);

interface ContainerMetrics {
  name: string;
  usage: { cpu: string; memory: string };
}

interface PodMetrics {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: ContainerMetrics[];
}

let kubeConfig: KubeConfig;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let namespace: TestNamespace;

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  core = kubeConfig.makeApiClient(CoreV1Api);
  custom = kubeConfig.makeApiClient(CustomObjectsApi);
  namespace = await createTestNamespace(kubeConfig, 'metrics');
});

afterAll(async () => {
  await namespace.delete();
});

const target = { group: 'metrics.k8s.io', version: 'v1beta1', plural: 'pods' };

async function podMetrics(name: string): Promise<PodMetrics | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({
      ...target,
      namespace: namespace.name,
      name,
    })) as PodMetrics;
  } catch {
    return undefined;
  }
}

async function startPod(
  name: string,
  annotations: Record<string, string>,
  restartPolicy = 'Always',
): Promise<void> {
  const containers = [container('trainer'), container('monitor')];
  const spec = { ...onNode('worker-3'), containers, restartPolicy };
  await core.createNamespacedPod({
    namespace: namespace.name,
    body: podManifest(name, { annotations, spec }),
  });
  await waitForPod(kubeConfig, namespace.name, name, isReady, { what: `${name} Ready` });
}

describe('metrics.k8s.io', () => {
  it('serves PodMetrics for running containers named in the usage annotation', async () => {
    await startPod('quiet', {});
    await startPod('busy', { 'sim.aso.dev/usage': 'trainer=900m/1536Mi' });

    const metrics = await eventually(() => podMetrics('busy'), { what: 'PodMetrics for busy' });
    expect(metrics.kind).toBe('PodMetrics');
    expect(metrics.metadata.labels).toMatchObject({ app: 'busy' });
    expect(metrics.window).toBe('30s');
    expect(Date.parse(metrics.timestamp)).not.toBeNaN();
    expect(metrics.containers).toEqual([
      { name: 'trainer', usage: { cpu: '900m', memory: '1536Mi' } },
    ]);
    // Published in order after `quiet` became Ready: no usage annotation, no PodMetrics.
    expect(await podMetrics('quiet')).toBeUndefined();
  });

  it('answers on the metrics-server path and refreshes the timestamp', async () => {
    const path = `/apis/metrics.k8s.io/v1beta1/namespaces/${namespace.name}/pods/busy`;
    const first = await getRaw(path);

    const refreshed = await eventually(
      async () => {
        const current = await getRaw(path);
        return current.timestamp !== first.timestamp ? current : undefined;
      },
      { what: 'a refreshed PodMetrics timestamp', timeoutMs: 30_000, intervalMs: 1000 },
    );

    expect(refreshed.containers).toEqual(first.containers);
  });

  it('sums pod usage into NodeMetrics', async () => {
    await eventually(
      async () => {
        const node = (await custom.getClusterCustomObject({
          ...target,
          plural: 'nodes',
          name: 'worker-3',
        })) as {
          usage: { cpu: string };
        };
        return node.usage.cpu === '900m';
      },
      { what: 'worker-3 NodeMetrics at 900m' },
    );
  });

  it('works with kubectl top pod', async () => {
    const args = [
      '--kubeconfig',
      inject('kubeconfigPath'),
      'top',
      'pod',
      '-n',
      namespace.name,
      '--containers',
    ];
    const { stdout } = await run(KUBECTL, args);

    expect(stdout).toMatch(/busy\s+trainer\s+900m\s+1536Mi/);
    expect(stdout).not.toContain('quiet');
  });

  it('drops PodMetrics when the container stops running', async () => {
    await startPod('stops', {
      'sim.aso.dev/usage': 'trainer=100m/64Mi',
      'sim.aso.dev/exit': 'trainer=0@3',
    });
    await eventually(() => podMetrics('stops'), { what: 'PodMetrics for stops' });

    await eventually(async () => (await podMetrics('stops')) === undefined, {
      what: 'PodMetrics for stops removed',
    });
  });
});

/** Through kubectl, so the path is exactly the one metrics clients request. */
async function getRaw(path: string): Promise<PodMetrics> {
  const { stdout } = await run(KUBECTL, [
    '--kubeconfig',
    inject('kubeconfigPath'),
    'get',
    '--raw',
    path,
  ]);
  return JSON.parse(stdout) as PodMetrics;
}
