import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

import type { SystemService } from './system.ts';

/** A call a ServiceAccount must not be allowed to make, tried in `namespace`. */
export type Probe = [
  what: string,
  call: (kubeConfig: KubeConfig, namespace: string) => Promise<unknown>,
];

/*
 * Every write is a server-side dry run: authorization comes before it, so a refusal is
 * still a 403, and a rule granted by mistake changes nothing in the shared cluster.
 */
const DRY_RUN = 'All';

const core = (kubeConfig: KubeConfig) => kubeConfig.makeApiClient(CoreV1Api);
const apps = (kubeConfig: KubeConfig) => kubeConfig.makeApiClient(AppsV1Api);

/** Calls outside every service's grants. */
export const FORBIDDEN_TO_ALL: Probe[] = [
  ['list secrets', (k, namespace) => core(k).listNamespacedSecret({ namespace })],
  ['read configmaps', (k, namespace) => core(k).listNamespacedConfigMap({ namespace })],
  ['delete a node', (k) => core(k).deleteNode({ name: 'worker-3', dryRun: DRY_RUN })],
  [
    'create a Deployment',
    (k, namespace) =>
      apps(k).createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'rbac-probe' },
          spec: {
            selector: { matchLabels: { app: 'rbac-probe' } },
            template: {
              metadata: { labels: { app: 'rbac-probe' } },
              spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
            },
          },
        },
        dryRun: DRY_RUN,
      }),
  ],
  [
    'scale a ReplicaSet',
    (k, namespace) =>
      apps(k).replaceNamespacedReplicaSetScale({
        name: 'rbac-probe',
        namespace,
        body: { metadata: { name: 'rbac-probe', namespace }, spec: { replicas: 5 } },
        dryRun: DRY_RUN,
      }),
  ],
  [
    'delete a PersistentVolume',
    (k) => core(k).deletePersistentVolume({ name: 'rbac-probe', dryRun: DRY_RUN }),
  ],
  [
    'request a ServiceAccount token',
    (k) =>
      core(k).createNamespacedServiceAccountToken({
        name: 'aso-pod-worker',
        namespace: 'aso-system',
        body: { spec: { audiences: [] } },
        dryRun: DRY_RUN,
      }),
  ],
];

/** Calls one service may not make, although another service may. */
export const FORBIDDEN_TO: Record<SystemService, Probe[]> = {
  api: [
    ['create pods', createProbePod],
    ['create events', createProbeEvent],
  ],
  capture: [
    ['create pods', createProbePod],
    ['patch a node', patchProbeNode],
    [
      'evict a pod',
      (k, namespace) =>
        core(k).createNamespacedPodEviction({
          name: 'rbac-probe',
          namespace,
          body: { metadata: { name: 'rbac-probe', namespace } },
          dryRun: DRY_RUN,
        }),
    ],
  ],
  pod: [
    ['list nodes', (k) => core(k).listNode()],
    ['patch a node', patchProbeNode],
    ['read a PersistentVolume', (k) => core(k).readPersistentVolume({ name: 'rbac-probe' })],
    [
      'patch a claim',
      (k, namespace) =>
        core(k).patchNamespacedPersistentVolumeClaim({
          name: 'rbac-probe',
          namespace,
          body: [{ op: 'add', path: '/metadata/labels/aso.dev~1probe', value: 'x' }],
          dryRun: DRY_RUN,
        }),
    ],
    [
      'delete a ReplicaSet',
      (k, namespace) =>
        apps(k).deleteNamespacedReplicaSet({ name: 'rbac-probe', namespace, dryRun: DRY_RUN }),
    ],
  ],
  metrics: [
    ['create pods', createProbePod],
    ['patch a node', patchProbeNode],
    ['create events', createProbeEvent],
    [
      'delete pods',
      (k, namespace) =>
        core(k).deleteNamespacedPod({ name: 'rbac-probe', namespace, dryRun: DRY_RUN }),
    ],
  ],
};

/** Only the gateway patches nodes (a drain's cordon); no worker may. */
function patchProbeNode(kubeConfig: KubeConfig): Promise<unknown> {
  return core(kubeConfig).patchNode({
    name: 'worker-3',
    body: [{ op: 'add', path: '/metadata/labels/aso.dev~1probe', value: 'x' }],
    dryRun: DRY_RUN,
  });
}

function createProbePod(kubeConfig: KubeConfig, namespace: string): Promise<unknown> {
  return core(kubeConfig).createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'rbac-probe' },
      spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
    },
    dryRun: DRY_RUN,
  });
}

function createProbeEvent(kubeConfig: KubeConfig, namespace: string): Promise<unknown> {
  return core(kubeConfig).createNamespacedEvent({
    namespace,
    body: {
      metadata: { generateName: 'rbac-probe.' },
      involvedObject: { kind: 'Pod', name: 'rbac-probe', namespace },
    },
    dryRun: DRY_RUN,
  });
}
