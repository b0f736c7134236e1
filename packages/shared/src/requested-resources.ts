import type { V1Container } from '@kubernetes/client-node';

import type { RequestedResources } from './migration.ts';
import { cpuToMillicores, formatBytes, formatMillicores, memoryToBytes } from './quantity.ts';

/**
 * Sums the CPU and memory requests of a pod's app containers. A container that
 * requests nothing is listed rather than counted as zero, so a reader can tell
 * "requests nothing" from "requests were not set".
 */
export function sumRequests(containers: V1Container[]): RequestedResources {
  let cpu = 0;
  let memory = 0;
  const withoutRequests: string[] = [];

  for (const container of containers) {
    const requests = container.resources?.requests ?? {};
    const containerCpu = requests['cpu'];
    const containerMemory = requests['memory'];
    if (containerCpu === undefined || containerMemory === undefined) {
      withoutRequests.push(container.name);
    }
    cpu += containerCpu === undefined ? 0 : cpuToMillicores(containerCpu);
    memory += containerMemory === undefined ? 0 : memoryToBytes(containerMemory);
  }

  return {
    cpu: formatMillicores(cpu),
    memory: formatBytes(memory),
    cpu_millicores: cpu,
    memory_bytes: memory,
    containers_without_requests: withoutRequests,
  };
}
