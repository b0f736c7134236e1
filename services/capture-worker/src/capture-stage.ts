import type { V1Pod } from '@kubernetes/client-node';

import {
  ControllerOwnedPodError,
  isNotFound,
  kubernetesError,
  NodeNotFoundError,
  NothingToMigrateError,
  PodNotFoundError,
  PodNotOnSourceNodeError,
  PodTerminatingError,
  readPodUsage,
  sumRequests,
  type KubeClients,
  type MigrationRequest,
  type StageContext,
  type StageHandler,
} from '@aso/shared';

import { captureContainerStates } from '@aso/shared';

/**
 * The capture stage: reads the pod as it runs now, checks that the move makes
 * sense, and records each container's state with the requested and measured
 * resources, so that later stages work from one consistent snapshot.
 */
export function createCaptureStage(kube: KubeClients): StageHandler {
  return {
    stage: 'capture',
    honoursDeadline: true,

    async run(context: StageContext) {
      const request = context.record.request;
      const pod = await readPod(kube, request);

      checkMovable(pod, request);
      await checkTargetNode(kube, request.target_node);

      const containerStates = captureContainerStates(pod);
      if (!containerStates.some((c) => c.should_migrate)) {
        throw new NothingToMigrateError(podRef(request));
      }
      const measured = await readPodUsage(
        kube.customObjects,
        request.pod_namespace,
        request.pod_name,
      );

      await context.store.update(context.record.migration_id, (record) => {
        record.details.source_pod_uid = pod.metadata?.uid ?? null;
        record.details.restart_policy = pod.spec?.restartPolicy ?? 'Always';
        record.details.container_states = containerStates;
        record.details.original_resources = {
          requested: sumRequests(pod.spec?.containers ?? []),
          measured,
        };
      });
      context.log.info(
        {
          kept: containerStates.filter((c) => c.should_migrate).map((c) => c.name),
          measured: measured.status,
        },
        'pod captured',
      );

      return { next: { stage: 'pod' } };
    },
  };
}

async function readPod(kube: KubeClients, request: MigrationRequest): Promise<V1Pod> {
  try {
    return await kube.core.readNamespacedPod({
      name: request.pod_name,
      namespace: request.pod_namespace,
    });
  } catch (error) {
    if (isNotFound(error)) throw new PodNotFoundError(request.pod_namespace, request.pod_name);
    throw kubernetesError(error, `reading pod ${podRef(request)}`);
  }
}

function checkMovable(pod: V1Pod, request: MigrationRequest): void {
  if (pod.metadata?.deletionTimestamp) throw new PodTerminatingError(podRef(request));

  if (pod.spec?.nodeName !== request.source_node) {
    throw new PodNotOnSourceNodeError(podRef(request), request.source_node, pod.spec?.nodeName);
  }

  const controller = pod.metadata?.ownerReferences?.find((owner) => owner.controller);
  if (controller) {
    throw new ControllerOwnedPodError(podRef(request), controller.kind, controller.name);
  }
}

async function checkTargetNode(kube: KubeClients, node: string): Promise<void> {
  try {
    await kube.core.readNode({ name: node });
  } catch (error) {
    if (isNotFound(error)) throw new NodeNotFoundError(node);
    throw kubernetesError(error, `reading node ${node}`);
  }
}

function podRef(request: MigrationRequest): string {
  return `${request.pod_namespace}/${request.pod_name}`;
}
