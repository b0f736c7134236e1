import type { CustomObjectsApi } from '@kubernetes/client-node';

import { apiErrorMessage, apiStatusCode, kubernetesError } from './kube.ts';
import type { MeasuredResources } from './migration.ts';
import { cpuToMillicores, formatBytes, formatMillicores, memoryToBytes } from './quantity.ts';

interface PodMetricsDocument {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: { cpu?: string; memory?: string } }[];
}

/**
 * Reads a pod's measured usage from metrics.k8s.io, as `kubectl top pod` does.
 * No sample (metrics-server has not scraped the pod yet, or no metrics API is
 * installed) is reported as unmeasured with the reason, never as zero.
 */
export async function readPodUsage(
  customObjects: CustomObjectsApi,
  namespace: string,
  name: string,
): Promise<MeasuredResources> {
  let document: PodMetricsDocument;
  try {
    document = (await customObjects.getNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace,
      plural: 'pods',
      name,
    })) as PodMetricsDocument;
  } catch (error) {
    const unmeasured = unmeasuredReason(error);
    if (unmeasured) return { status: 'unmeasured', reason: unmeasured };
    throw kubernetesError(error, `reading metrics of pod ${namespace}/${name}`);
  }

  return toMeasured(document);
}

function unmeasuredReason(error: unknown): string | null {
  const code = apiStatusCode(error);
  if (code === 404) {
    const message = apiErrorMessage(error);
    return message.includes('could not find the requested resource')
      ? 'the cluster serves no metrics.k8s.io API (is metrics-server installed?)'
      : 'metrics.k8s.io has no sample for this pod yet';
  }
  if (code === 503) return 'the metrics.k8s.io API is unavailable';
  return null;
}

function toMeasured(document: PodMetricsDocument): MeasuredResources {
  const containers = (document.containers ?? []).map((container) => ({
    name: container.name,
    cpu_millicores: cpuToMillicores(container.usage?.cpu ?? '0'),
    memory_bytes: memoryToBytes(container.usage?.memory ?? '0'),
  }));
  if (containers.length === 0) {
    return { status: 'unmeasured', reason: 'metrics.k8s.io returned no container samples' };
  }

  const cpu = containers.reduce((sum, c) => sum + c.cpu_millicores, 0);
  const memory = containers.reduce((sum, c) => sum + c.memory_bytes, 0);
  return {
    status: 'measured',
    cpu: formatMillicores(cpu),
    memory: formatBytes(memory),
    cpu_millicores: cpu,
    memory_bytes: memory,
    timestamp: document.timestamp ?? '',
    window: document.window ?? '',
    containers,
  };
}
