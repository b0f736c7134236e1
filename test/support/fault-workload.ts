import { randomUUID } from 'node:crypto';

import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

import { waitForPod } from '../setup/kube.ts';
import { WORKLOAD_LABEL } from './fault-tally.ts';

export interface WorkloadOptions {
  node?: string;
  /** Seconds from start to Ready (the simulator's ready-after); the new pod inherits it. */
  readyAfter?: number;
  /** A claim the pod mounts at /data (a ReadWriteOnce one makes it break-before-make). */
  claim?: string;
}

/**
 * A one-container pod labelled with its workload (the new pod copies the labels, so
 * the workload's pods can be counted) and `app=<name>` for a disruption budget;
 * resolves once it is Ready.
 */
export async function readyWorkload(
  kubeConfig: KubeConfig,
  namespace: string,
  prefix: string,
  options: WorkloadOptions = {},
): Promise<V1Pod> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomUUID().slice(0, 6)}`;
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name,
        labels: { [WORKLOAD_LABEL]: name, app: name },
        annotations: { 'sim.aso.dev/ready-after': String(options.readyAfter ?? 1) },
      },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': options.node ?? 'worker-1' },
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            volumeMounts: options.claim ? [{ name: 'data', mountPath: '/data' }] : [],
          },
        ],
        volumes: options.claim
          ? [{ name: 'data', persistentVolumeClaim: { claimName: options.claim } }]
          : [],
      },
    },
  });

  const ready = await waitForPod(kubeConfig, namespace, name, isReady, {
    what: `pod ${name} Ready`,
    timeoutMs: 60_000,
  });
  return ready as V1Pod;
}

function isReady(pod: V1Pod | undefined): boolean {
  return Boolean(pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}
