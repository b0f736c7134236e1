import type { CustomObjectsApi } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, ignoreNotFound } from './api-errors.ts';
import {
  METRICS_GROUP,
  METRICS_VERSION,
  NODE_METRICS_PLURAL,
  POD_METRICS_PLURAL,
} from './metrics-api.ts';
import { formatCpu, formatMemory } from './quantity.ts';
import { formatApiTime } from './time.ts';

/**
 * Publishes what metrics-server would report: one PodMetrics per pod with usage figures
 * for its running containers, and one NodeMetrics per node summing them. Objects are
 * written with server-side apply, so a create and an update are the same request.
 */
export interface ContainerUsage {
  name: string;
  cpuNanocores: number;
  memoryBytes: number;
}

export interface PodUsage {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  containers: ContainerUsage[];
}

export interface MetricsPublisher {
  /** Sets or (with undefined) removes a pod's usage; writes happen asynchronously. */
  setPodUsage(key: string, usage: PodUsage | undefined): void;
  stop(): Promise<void>;
}

export interface MetricsPublisherOptions {
  custom: CustomObjectsApi;
  nodes: readonly string[];
  refreshMs: number;
  logger: Logger;
}

const FIELD_MANAGER = 'aso-node-simulator';
const WINDOW = '30s';
const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

function podMetricsBody(usage: PodUsage, timestamp: string): object {
  return {
    apiVersion: `${METRICS_GROUP}/${METRICS_VERSION}`,
    kind: 'PodMetrics',
    metadata: {
      name: usage.name,
      namespace: usage.namespace,
      labels: usage.labels,
      // Lets the garbage collector remove it with the pod if the simulator missed the deletion.
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: usage.name, uid: usage.uid }],
    },
    timestamp,
    window: WINDOW,
    containers: usage.containers.map((container) => ({
      name: container.name,
      usage: {
        cpu: formatCpu(container.cpuNanocores),
        memory: formatMemory(container.memoryBytes),
      },
    })),
  };
}

function nodeMetricsBody(node: string, pods: PodUsage[], timestamp: string): object {
  const containers = pods.filter((pod) => pod.node === node).flatMap((pod) => pod.containers);
  const cpu = containers.reduce((sum, container) => sum + container.cpuNanocores, 0);
  const memory = containers.reduce((sum, container) => sum + container.memoryBytes, 0);
  return {
    apiVersion: `${METRICS_GROUP}/${METRICS_VERSION}`,
    kind: 'NodeMetrics',
    metadata: { name: node },
    timestamp,
    window: WINDOW,
    usage: { cpu: formatCpu(cpu), memory: formatMemory(memory) },
  };
}

function sameUsage(left: PodUsage | undefined, right: PodUsage | undefined): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

export function startMetricsPublisher(options: MetricsPublisherOptions): MetricsPublisher {
  const { custom, logger } = options;
  const pods = new Map<string, PodUsage>();
  const dirty = new Map<string, PodUsage | undefined>();
  let flushing: Promise<void> = Promise.resolve();
  let stopped = false;

  const writePod = async (usage: PodUsage, timestamp: string): Promise<void> => {
    const target = { group: METRICS_GROUP, version: METRICS_VERSION, plural: POD_METRICS_PLURAL };
    const body = podMetricsBody(usage, timestamp);
    const request = {
      ...target,
      namespace: usage.namespace,
      name: usage.name,
      body,
      fieldManager: FIELD_MANAGER,
      force: true,
    };
    await custom.patchNamespacedCustomObject(request, apply);
  };

  const deletePod = async (key: string): Promise<void> => {
    const [namespace = '', name = ''] = key.split('/');
    const target = { group: METRICS_GROUP, version: METRICS_VERSION, plural: POD_METRICS_PLURAL };
    await ignoreNotFound(() => custom.deleteNamespacedCustomObject({ ...target, namespace, name }));
  };

  const writeNodes = async (timestamp: string): Promise<void> => {
    const target = { group: METRICS_GROUP, version: METRICS_VERSION, plural: NODE_METRICS_PLURAL };
    for (const node of options.nodes) {
      const body = nodeMetricsBody(node, [...pods.values()], timestamp);
      await custom.patchClusterCustomObject(
        { ...target, name: node, body, fieldManager: FIELD_MANAGER, force: true },
        apply,
      );
    }
  };

  /**
   * One failed write must not hold back the others. Writes into a namespace that is being
   * deleted are refused (403) until its pods are gone; that is expected, not worth a warning.
   */
  const attempt = async (what: string, write: () => Promise<void>): Promise<void> => {
    try {
      await write();
    } catch (error) {
      const level = describeError(error).includes('is being terminated') ? 'debug' : 'warn';
      logger[level](
        { error: describeError(error) },
        `publishing ${what} failed; retrying on the next refresh`,
      );
    }
  };

  const flushOnce = async (): Promise<void> => {
    const batch = [...dirty];
    const timestamp = formatApiTime(Date.now());
    dirty.clear();

    for (const [key, usage] of batch) {
      await attempt(`metrics of pod ${key}`, () =>
        usage === undefined ? deletePod(key) : writePod(usage, timestamp),
      );
    }
    await attempt('node metrics', () => writeNodes(timestamp));
  };

  /** Writes are chained so a slow request never lets an older write land after a newer one. */
  const flush = (): void => {
    flushing = flushing
      .then(() => (stopped ? undefined : flushOnce()))
      .catch((error: unknown) => {
        logger.warn(
          { error: describeError(error) },
          'publishing metrics failed; retrying on the next refresh',
        );
      });
  };

  /** metrics-server scrapes periodically, so every object gets a fresh timestamp. */
  const refreshAll = (): void => {
    for (const [key, usage] of pods) {
      dirty.set(key, usage);
    }
    flush();
  };

  const timer = setInterval(refreshAll, options.refreshMs);
  refreshAll();

  return {
    setPodUsage: (key, usage) => {
      if (sameUsage(pods.get(key), usage)) {
        return;
      }
      if (usage === undefined) {
        pods.delete(key);
      } else {
        pods.set(key, usage);
      }
      dirty.set(key, usage);
      flush();
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await flushing;
    },
  };
}
