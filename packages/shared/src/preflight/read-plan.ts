import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node';

import {
  NodeNotFoundError,
  PodNotFoundError,
  PodNotScheduledError,
  ValidationError,
} from '../errors.ts';
import { isNotFound, kubernetesError, type KubeClients } from '../kube.ts';
import type { ContainerState } from '../migration.ts';
import type { MigrationRequestInput } from '../migration-request.ts';
import { captureContainerStates } from './container-states.ts';
import { listPodsOnNode, readNodeOrNull } from './node-reads.ts';
import { buildMigrationPlan, type MigrationPlan } from './plan.ts';

export interface PlannedMigration {
  pod: V1Pod;
  plan: MigrationPlan;
  /** The app containers' states the plan was built from. */
  containerStates: ContainerState[];
}

/**
 * Reads what the pre-flight needs from the cluster and builds the plan. The gateway
 * runs it before queueing (and for a dry run), the capture stage again on the state
 * the pod is in by then; both refuse with the same errors. Without a source node in
 * the request, the node the pod runs on is taken: the plan's source_node says which.
 */
export async function planMigration(
  kube: KubeClients,
  request: Pick<
    MigrationRequestInput,
    'pod_name' | 'pod_namespace' | 'source_node' | 'target_node'
  >,
): Promise<PlannedMigration> {
  const pod = await readPod(kube, request.pod_namespace, request.pod_name);
  const sourceNode = request.source_node ?? currentNode(pod, request.target_node);
  const targetNode = await readNode(kube, request.target_node);

  const [podsOnTarget, claims] = await Promise.all([
    listPodsOnNode(kube, request.target_node),
    readClaims(kube, pod),
  ]);
  const persistentVolumes = await readVolumes(kube, claims);
  const containerStates = captureContainerStates(pod);

  const plan = buildMigrationPlan({
    pod,
    sourceNode,
    targetNode,
    podsOnTarget,
    claims,
    persistentVolumes,
    containerStates,
  });
  return { pod, plan, containerStates };
}

async function readPod(kube: KubeClients, namespace: string, name: string): Promise<V1Pod> {
  try {
    return await kube.core.readNamespacedPod({ name, namespace });
  } catch (error) {
    if (isNotFound(error)) throw new PodNotFoundError(namespace, name);
    throw kubernetesError(error, `reading pod ${namespace}/${name}`);
  }
}

/** The node the pod runs on, standing in for a source node the request left out. */
function currentNode(pod: V1Pod, targetNode: string): string {
  const name = `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
  const node = pod.spec?.nodeName;
  if (!node) throw new PodNotScheduledError(name);

  // The same refusal as a request naming the target as its source.
  if (node === targetNode) {
    const message = `target_node must differ from source_node: pod ${name} already runs on ${node}`;
    throw new ValidationError(message, [{ field: 'target_node', message }]);
  }
  return node;
}

async function readNode(kube: KubeClients, name: string): Promise<V1Node> {
  const node = await readNodeOrNull(kube, name);
  if (node === null) throw new NodeNotFoundError(name);
  return node;
}

/** The claims the pod's volumes name; a missing one is left out, and the plan refuses it. */
async function readClaims(kube: KubeClients, pod: V1Pod): Promise<V1PersistentVolumeClaim[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const names = (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
  );

  const claims = await Promise.all(
    names.map(async (name) => {
      try {
        return await kube.core.readNamespacedPersistentVolumeClaim({ name, namespace });
      } catch (error) {
        if (isNotFound(error)) return null;
        throw kubernetesError(error, `reading claim ${namespace}/${name}`);
      }
    }),
  );
  return claims.filter((claim) => claim !== null);
}

async function readVolumes(
  kube: KubeClients,
  claims: V1PersistentVolumeClaim[],
): Promise<V1PersistentVolume[]> {
  const names = claims.flatMap((c) => (c.spec?.volumeName ? [c.spec.volumeName] : []));

  const volumes = await Promise.all(
    names.map(async (name) => {
      try {
        return await kube.core.readPersistentVolume({ name });
      } catch (error) {
        if (isNotFound(error)) return null;
        throw kubernetesError(error, `reading volume ${name}`);
      }
    }),
  );
  return volumes.filter((volume) => volume !== null);
}
