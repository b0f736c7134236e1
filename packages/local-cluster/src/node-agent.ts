import { createHash } from 'node:crypto';
import type {
  CoordinationV1Api,
  CoreV1Api,
  StorageV1Api,
  V1Node,
  V1NodeCondition,
} from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, ignoreAlreadyExists, isNotFound } from './api-errors.ts';
import type { SimulatedNode } from './simulated-nodes.ts';
import { NODE_RESOURCES, nodeLabels } from './simulated-nodes.ts';
import { formatApiTime, toMillis } from './time.ts';

/**
 * What a kubelet does for its Node: register it, post status through nodes/status, and
 * renew its Lease in kube-node-lease so the node-lifecycle controller keeps it Ready
 * (https://kubernetes.io/docs/concepts/architecture/nodes/#node-heartbeats).
 */
export interface NodeAgentClients {
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  storage: StorageV1Api;
}

export interface NodeAgentOptions {
  clients: NodeAgentClients;
  kubeletVersion: string;
  heartbeatMs: number;
  logger: Logger;
}

export interface NodeAgent {
  /** Resolves once the node is registered and has posted its first status. */
  readonly registered: Promise<void>;
  stop(): void;
}

const LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;
const KUBELET_PORT = 10250;

interface DesiredCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

const DESIRED_CONDITIONS: DesiredCondition[] = [
  {
    type: 'MemoryPressure',
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'simulated node has memory to spare',
  },
  {
    type: 'DiskPressure',
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'simulated node has disk to spare',
  },
  {
    type: 'PIDPressure',
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'simulated node has process IDs to spare',
  },
  {
    type: 'Ready',
    status: 'True',
    reason: 'KubeletReady',
    message: 'simulated kubelet is posting ready status',
  },
];

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

function stableId(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

function nodeInfo(node: SimulatedNode, kubeletVersion: string): Record<string, string> {
  return {
    machineID: stableId(`machine/${node.name}`),
    systemUUID: stableId(`system/${node.name}`),
    bootID: stableId(`boot/${node.name}`),
    kernelVersion: '6.8.0-aso-sim',
    osImage: 'ASO simulated node',
    containerRuntimeVersion: 'containerd://2.1.4-aso-sim',
    kubeletVersion,
    kubeProxyVersion: '',
    operatingSystem: 'linux',
    architecture: 'amd64',
  };
}

/** Keeps lastTransitionTime while a condition keeps its status; it moves only on a flip. */
function conditionsFor(current: V1NodeCondition[], now: number): Record<string, unknown>[] {
  const heartbeat = formatApiTime(now);
  return DESIRED_CONDITIONS.map((desired) => {
    const before = current.find((entry) => entry.type === desired.type);
    const since =
      before?.status === desired.status ? toMillis(before.lastTransitionTime) : undefined;
    return {
      ...desired,
      lastHeartbeatTime: heartbeat,
      lastTransitionTime: formatApiTime(since ?? now),
    };
  });
}

function statusPatch(node: SimulatedNode, current: V1Node, kubeletVersion: string): object {
  return {
    status: {
      capacity: NODE_RESOURCES,
      allocatable: NODE_RESOURCES,
      conditions: conditionsFor(current.status?.conditions ?? [], Date.now()),
      addresses: [
        { type: 'InternalIP', address: node.internalIP },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: nodeInfo(node, kubeletVersion),
    },
  };
}

async function registerNode(node: SimulatedNode, core: CoreV1Api): Promise<void> {
  await ignoreAlreadyExists(() =>
    core.createNode({
      body: {
        metadata: {
          name: node.name,
          labels: nodeLabels(node.name),
          annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
        },
        spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
      },
    }),
  );
}

/** The kubelet publishes a CSINode for its node; empty here since no CSI driver runs. */
async function registerCsiNode(current: V1Node, storage: StorageV1Api): Promise<void> {
  const name = current.metadata?.name ?? '';
  const owner = { apiVersion: 'v1', kind: 'Node', name, uid: current.metadata?.uid ?? '' };
  await ignoreAlreadyExists(() =>
    storage.createCSINode({
      body: { metadata: { name, ownerReferences: [owner] }, spec: { drivers: [] } },
    }),
  );
}

async function renewLease(current: V1Node, coordination: CoordinationV1Api): Promise<void> {
  const name = current.metadata?.name ?? '';
  const spec = {
    holderIdentity: name,
    leaseDurationSeconds: LEASE_DURATION_SECONDS,
    renewTime: new V1MicroTime(),
  };

  try {
    await coordination.patchNamespacedLease(
      { name, namespace: LEASE_NAMESPACE, body: { spec } },
      mergePatch,
    );
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
    const owner = { apiVersion: 'v1', kind: 'Node', name, uid: current.metadata?.uid ?? '' };
    const metadata = { name, namespace: LEASE_NAMESPACE, ownerReferences: [owner] };
    await ignoreAlreadyExists(() =>
      coordination.createNamespacedLease({ namespace: LEASE_NAMESPACE, body: { metadata, spec } }),
    );
  }
}

async function heartbeat(node: SimulatedNode, options: NodeAgentOptions): Promise<V1Node> {
  const { core, coordination } = options.clients;
  const current = await core.readNode({ name: node.name });
  const body = statusPatch(node, current, options.kubeletVersion);

  await renewLease(current, coordination);
  return core.patchNodeStatus({ name: node.name, body }, strategicMergePatch);
}

export function startNodeAgent(node: SimulatedNode, options: NodeAgentOptions): NodeAgent {
  const logger = options.logger.child({ node: node.name });
  let stopped = false;
  const isStopped = (): boolean => stopped;
  let timer: NodeJS.Timeout | undefined;

  const beat = async (): Promise<void> => {
    try {
      await heartbeat(node, options);
    } catch (error) {
      if (!stopped) {
        logger.warn({ error: describeError(error) }, 'node heartbeat failed');
      }
    }
  };

  const registered = (async () => {
    await registerNode(node, options.clients.core);
    const current = await heartbeat(node, options);
    await registerCsiNode(current, options.clients.storage);
    logger.info('node registered');
    if (!isStopped()) {
      timer = setInterval(() => void beat(), options.heartbeatMs);
    }
  })();

  return {
    registered,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
