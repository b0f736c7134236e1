import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PolicyV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { eventually, loadTestKubeConfig } from '../setup/kube.ts';
import {
  isClusterScoped,
  kubectl,
  namespaceOverlay,
  renderKustomization,
  writeManifests,
  type Manifest,
} from '../support/kustomize.ts';

/**
 * Renders k8s/base into a namespace of this file's own, checks it with a server-side
 * dry run, applies its namespaced objects for real and waits for the node simulator
 * to run every pod. Cluster-scoped RBAC keeps its base names and is only dry-run, so
 * this file never touches what test/e2e/rbac.e2e.test.ts applies.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKERS = ['aso-capture-worker', 'aso-pod-worker', 'aso-metrics-worker'];
const DEPLOYMENTS = ['aso-api', ...WORKERS];

let admin: KubeConfig;
let kubeconfig: string;
let namespace: string;
let overlay: { dir: string; remove(): Promise<void> };
let manifests: Manifest[];

beforeAll(async () => {
  kubeconfig = inject('kubeconfigPath');
  admin = loadTestKubeConfig();
  namespace = `aso-manifests-${randomBytes(3).toString('hex')}`;
  overlay = await namespaceOverlay(namespace);
  manifests = await renderKustomization(kubeconfig, overlay.dir);

  // Namespaced objects can be dry-run only once their namespace exists.
  await applyFile(
    'namespace.yaml',
    manifests.filter((m) => m.kind === 'Namespace'),
  );
});

afterAll(async () => {
  await kubectl(kubeconfig, ['delete', 'namespace', namespace, '--wait=false']).catch(() => '');
  await overlay.remove();
});

async function applyFile(name: string, objects: Manifest[], ...flags: string[]): Promise<string> {
  const path = join(overlay.dir, name);
  await writeManifests(path, objects);
  return kubectl(kubeconfig, ['apply', '--server-side', ...flags, '-f', path]);
}

function named(kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

function names(kind: string): string[] {
  return named(kind)
    .map((m) => m.metadata.name)
    .sort();
}

describe('k8s/base', () => {
  it('renders the workloads, settings, Redis and the budget into the overlay namespace', () => {
    expect(names('Deployment')).toEqual([...DEPLOYMENTS].sort());
    expect(names('StatefulSet')).toEqual(['aso-redis']);
    expect(names('Service')).toEqual(
      ['aso-api', 'aso-redis', ...WORKERS.map((w) => `${w}-metrics`)].sort(),
    );
    expect(names('PodDisruptionBudget')).toEqual(['aso-api']);
    expect(names('ConfigMap')).toEqual([
      expect.stringMatching(/^aso-config-/),
      expect.stringMatching(/^aso-redis-config-/),
    ]);
    expect(names('Secret')).toEqual([expect.stringMatching(/^aso-api-tokens-/)]);
    expect(names('Namespace')).toEqual([namespace]);

    const namespaced = manifests.filter((m) => !isClusterScoped(m));
    expect(new Set(namespaced.map((m) => m.metadata.namespace))).toEqual(new Set([namespace]));
  });

  it('starts each service with an entry point that exists in the repository', () => {
    for (const deployment of named('Deployment')) {
      const [container] = containersOf(deployment);
      const [program, script] = container?.command ?? [];

      expect(program, deployment.metadata.name).toBe('node');
      expect(existsSync(join(ROOT, script ?? '')), `${script} of ${deployment.metadata.name}`).toBe(
        true,
      );
    }
  });

  it('gives every container probes, requests and limits, and a locked-down context', () => {
    for (const workload of [...named('Deployment'), ...named('StatefulSet')]) {
      for (const container of containersOf(workload)) {
        const what = `${workload.metadata.name}/${container.name}`;

        expect(container.readinessProbe, what).toBeDefined();
        expect(container.livenessProbe, what).toBeDefined();
        expect(Object.keys(container.resources?.requests ?? {}).sort(), what).toEqual([
          'cpu',
          'memory',
        ]);
        expect(Object.keys(container.resources?.limits ?? {}).sort(), what).toEqual([
          'cpu',
          'memory',
        ]);
        expect(container.securityContext, what).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('probes /health and /ready on the API port and on the workers ops port', () => {
    const probes = (name: string) => {
      const deployment = named('Deployment').find((d) => d.metadata.name === name);
      const [container] = deployment ? containersOf(deployment) : [];
      const port = container?.ports?.[0]?.containerPort;
      return {
        port,
        live: container?.livenessProbe?.httpGet?.path,
        ready: container?.readinessProbe?.httpGet?.path,
      };
    };

    expect(probes('aso-api')).toEqual({ port: 8080, live: '/health', ready: '/ready' });
    for (const worker of WORKERS) {
      expect(probes(worker)).toEqual({ port: 9464, live: '/health', ready: '/ready' });
    }
  });

  it('runs Redis with append-only persistence and without eviction', () => {
    const config = named('ConfigMap').find((m) => m.metadata.name.startsWith('aso-redis-config-'));
    const lines = (config?.data?.['redis.conf'] ?? '').split('\n');

    expect(lines).toContain('maxmemory-policy noeviction');
    expect(lines).toContain('appendonly yes');
  });

  it('the apiserver accepts every object, cluster-scoped ones included, in a dry run', async () => {
    const output = await applyFile('dry-run.yaml', manifests, '--dry-run=server');

    expect(output).toContain('deployment.apps/aso-api serverside-applied (server dry run)');
    const apps = admin.makeApiClient(AppsV1Api);
    expect((await apps.listNamespacedDeployment({ namespace })).items).toEqual([]);
  });

  it('the namespace enforces the restricted Pod Security profile', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const loose = {
      metadata: { name: 'loose' },
      spec: { containers: [{ name: 'c', image: 'x' }] },
    };

    const refusal = await core
      .createNamespacedPod({ namespace, body: loose, dryRun: 'All' })
      .then(() => undefined)
      .catch((error: unknown) => error);

    expect(refusal).toBeInstanceOf(ApiException);
    expect((refusal as ApiException<string>).code).toBe(403);
    expect((refusal as ApiException<string>).body).toContain('violates PodSecurity');
  });
});

describe('k8s/base applied for real', () => {
  beforeAll(async () => {
    await applyFile(
      'namespaced.yaml',
      manifests.filter((m) => !isClusterScoped(m)),
    );
  });

  it('every Deployment and the Redis StatefulSet get Ready pods on simulated nodes', async () => {
    const apps = admin.makeApiClient(AppsV1Api);

    for (const name of DEPLOYMENTS) {
      await eventually(
        async () => {
          const { spec, status } = await apps.readNamespacedDeployment({ name, namespace });
          return (status?.readyReplicas ?? 0) === (spec?.replicas ?? 1);
        },
        { what: `Deployment ${name} Ready`, timeoutMs: 90_000 },
      );
    }
    await eventually(
      async () =>
        (await apps.readNamespacedStatefulSet({ name: 'aso-redis', namespace })).status
          ?.readyReplicas === 1,
      { what: 'StatefulSet aso-redis Ready (its claim Bound first)', timeoutMs: 90_000 },
    );

    const pods = (await admin.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items;
    expect(pods).toHaveLength(6);
    for (const pod of pods) {
      expect(pod.spec?.nodeName, pod.metadata?.name).toMatch(/^worker-\d$/);
      expect(pod.status?.phase, pod.metadata?.name).toBe('Running');
    }
  });

  it('the API budget allows one voluntary disruption of its two replicas', async () => {
    const policy = admin.makeApiClient(PolicyV1Api);

    const status = await eventually(
      async () => {
        const budget = await policy.readNamespacedPodDisruptionBudget({
          name: 'aso-api',
          namespace,
        });
        return budget.status?.currentHealthy === 2 ? budget.status : undefined;
      },
      { what: 'PodDisruptionBudget aso-api counting two healthy pods' },
    );

    expect(status).toMatchObject({ expectedPods: 2, desiredHealthy: 1, disruptionsAllowed: 1 });
  });

  const backends: [string, number][] = [
    ['aso-api', 2],
    ['aso-redis', 1],
    ...WORKERS.map((worker): [string, number] => [`${worker}-metrics`, 1]),
  ];

  it.each(backends)('Service %s reaches its %i Ready pod(s)', async (service, count) => {
    const discovery = admin.makeApiClient(DiscoveryV1Api);

    await eventually(
      async () => {
        const slices = await discovery.listNamespacedEndpointSlice({
          namespace,
          labelSelector: `kubernetes.io/service-name=${service}`,
        });
        const ready = slices.items
          .flatMap((slice) => slice.endpoints ?? [])
          .filter((endpoint) => endpoint.conditions?.ready === true);
        return ready.length === count;
      },
      { what: `${count} ready endpoints behind Service ${service}` },
    );
  });
});

interface ContainerShape {
  name: string;
  command?: string[];
  ports?: { containerPort: number }[];
  livenessProbe?: { httpGet?: { path?: string } };
  readinessProbe?: { httpGet?: { path?: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}

function containersOf(workload: Manifest): ContainerShape[] {
  const template = workload.spec?.['template'] as
    { spec?: { containers?: ContainerShape[] } } | undefined;
  return template?.spec?.containers ?? [];
}
