import type {
  KubeConfig,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  StorageV1Api,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { startInformer } from './informer.ts';
import type { MetricsPublisher } from './metrics-publisher.ts';
import { startMetricsPublisher } from './metrics-publisher.ts';
import { startNodeAgent } from './node-agent.ts';
import { startPodLifecycle } from './pod-lifecycle.ts';
import type { PodWorkerContext } from './pod-worker.ts';
import { startProvisioner } from './provisioner.ts';
import { simulatedNodes } from './simulated-nodes.ts';

/**
 * Stands in for the kubelets of the simulated nodes (no container runtime exists here)
 * and for the storage provisioner and metrics-server. It only talks to the apiserver,
 * reporting what real components would report, so the real scheduler and controllers
 * work unchanged on top of it.
 */
export interface NodeSimulatorOptions {
  kubeConfig: KubeConfig;
  nodeNames: readonly string[];
  kubeletVersion: string;
  deleteGraceCapSeconds: number;
  logger: Logger;
}

export interface NodeSimulator {
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 10_000;
const METRICS_REFRESH_MS = 10_000;
const PROVISIONER_RESYNC_MS = 10_000;

/** Kubelet timings, shortened so tests run quickly: the kubelet's back-off starts at 10 s, capped at 5 min. */
export function simulatorTimings(deleteGraceCapSeconds: number): PodWorkerContext['timings'] {
  return {
    backOff: { initialMs: 1000, maxMs: 8000 },
    initContainerSeconds: 1,
    sandboxDelayMs: 500,
    deleteGraceCapSeconds,
  };
}

function startInformers(kubeConfig: KubeConfig, core: CoreV1Api, logger: Logger) {
  return {
    pods: startInformer<V1Pod>(
      kubeConfig,
      { kind: 'pods', path: '/api/v1/pods', list: () => core.listPodForAllNamespaces() },
      logger,
    ),
    claims: startInformer<V1PersistentVolumeClaim>(
      kubeConfig,
      {
        kind: 'persistentvolumeclaims',
        path: '/api/v1/persistentvolumeclaims',
        list: () => core.listPersistentVolumeClaimForAllNamespaces(),
      },
      logger,
    ),
    volumes: startInformer<V1PersistentVolume>(
      kubeConfig,
      {
        kind: 'persistentvolumes',
        path: '/api/v1/persistentvolumes',
        list: () => core.listPersistentVolume(),
      },
      logger,
    ),
  };
}

export async function startNodeSimulator(options: NodeSimulatorOptions): Promise<NodeSimulator> {
  const { kubeConfig, logger } = options;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const storage = kubeConfig.makeApiClient(StorageV1Api);
  const nodes = simulatedNodes(options.nodeNames);
  const agents = nodes.map((node) =>
    startNodeAgent(node, {
      clients: { core, storage, coordination: kubeConfig.makeApiClient(CoordinationV1Api) },
      kubeletVersion: options.kubeletVersion,
      heartbeatMs: HEARTBEAT_MS,
      logger,
    }),
  );
  await Promise.all(agents.map((agent) => agent.registered));

  const informers = startInformers(kubeConfig, core, logger);
  const metrics: MetricsPublisher = startMetricsPublisher({
    custom: kubeConfig.makeApiClient(CustomObjectsApi),
    nodes: options.nodeNames,
    refreshMs: METRICS_REFRESH_MS,
    logger,
  });
  const stopPods = startPodLifecycle({
    core,
    nodes,
    ...informers,
    metrics,
    timings: simulatorTimings(options.deleteGraceCapSeconds),
    logger,
  });
  const stopProvisioner = startProvisioner({
    core,
    storage,
    ...informers,
    resyncMs: PROVISIONER_RESYNC_MS,
    logger,
  });
  await Promise.all(Object.values(informers).map((informer) => informer.synced));

  return {
    stop: async () => {
      stopProvisioner();
      stopPods();
      Object.values(informers).forEach((informer) => {
        informer.stop();
      });
      agents.forEach((agent) => {
        agent.stop();
      });
      await metrics.stop();
    },
  };
}
