import type { MeasuredResources, ResourceFigures } from '@aso/shared';

const MI = 2 ** 20;

/**
 * A pod's resource figures as a migration record carries them: requests of `cpu`
 * millicores and `memoryMi` MiB, every container with requests, beside what was measured.
 */
export function resourceFigures(
  cpu: number,
  memoryMi: number,
  measured: MeasuredResources,
): ResourceFigures {
  return {
    requested: {
      cpu: `${cpu}m`,
      memory: `${memoryMi}Mi`,
      cpu_millicores: cpu,
      memory_bytes: memoryMi * MI,
      containers_without_requests: [],
    },
    measured,
  };
}
