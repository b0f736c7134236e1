import type { V1Pod } from '@kubernetes/client-node';

import {
  cpuToMillicores,
  formatBytes,
  formatMillicores,
  memoryToBytes,
  parseQuantity,
} from '../quantity.ts';

export type PolicyMetric = 'cpu' | 'memory';

/**
 * A policy's threshold: a quantity of measured usage ("800m", "1Gi"), or a
 * percentage of what the pod's containers request ("80%").
 */
export type Threshold =
  { kind: 'quantity'; value: number } | { kind: 'percent-of-requests'; percent: number };

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/** The most a percentage threshold may be: usage far above requests is possible (bursting). */
export const MAX_THRESHOLD_PERCENT = 1000;

/** Throws on a string that is neither a quantity nor a percentage. */
export function parseThreshold(metric: PolicyMetric, threshold: string): Threshold {
  const percent = PERCENT.exec(threshold.trim());
  if (percent) return { kind: 'percent-of-requests', percent: Number(percent[1]) };
  return { kind: 'quantity', value: inUnitOf(metric, threshold) };
}

/** Why a threshold string is unusable, or null. */
export function thresholdProblem(metric: PolicyMetric, threshold: string): string | null {
  let parsed: Threshold;
  try {
    parsed = parseThreshold(metric, threshold);
  } catch {
    const example = metric === 'cpu' ? '"800m" or "2"' : '"512Mi" or "1Gi"';
    return (
      `threshold "${threshold}" is neither a Kubernetes quantity (e.g. ${example}) ` +
      'nor a percentage of the requests (e.g. "80%")'
    );
  }

  return cpuUnitProblem(metric, threshold) ?? sizeProblem(metric, threshold, parsed);
}

/** CPU is counted in cores: a binary suffix ("1Gi") is a memory size written by mistake. */
function cpuUnitProblem(metric: PolicyMetric, threshold: string): string | null {
  if (metric !== 'cpu' || !/[KMGTPE]i$/.test(threshold)) return null;
  return `threshold "${threshold}" is a memory size: a cpu threshold is in cores ("2") or millicores ("800m")`;
}

function sizeProblem(metric: PolicyMetric, threshold: string, parsed: Threshold): string | null {
  const value = parsed.kind === 'quantity' ? parsed.value : parsed.percent;
  if (!Number.isFinite(value) || !Number.isSafeInteger(Math.ceil(value))) {
    return `threshold "${threshold}" is too large`;
  }
  // Usage is measured in whole millicores: a smaller positive threshold rounds to zero.
  if (
    value === 0 &&
    metric === 'cpu' &&
    parsed.kind === 'quantity' &&
    parseQuantity(threshold) > 0
  ) {
    return `threshold "${threshold}" is below 1m, the smallest cpu usage measured`;
  }
  if (!(value > 0)) return 'threshold must be greater than zero';
  if (parsed.kind === 'percent-of-requests' && value > MAX_THRESHOLD_PERCENT) {
    return `a percentage threshold must be at most ${MAX_THRESHOLD_PERCENT}%`;
  }
  return null;
}

/** The threshold for one pod in the unit usage comes in, and how to say it. */
export type PodThreshold = { value: number; text: string } | { unavailable: string };

export function thresholdForPod(
  policy: { metric: PolicyMetric; threshold: string },
  pod: V1Pod,
): PodThreshold {
  const { metric } = policy;
  const threshold = parseThreshold(metric, policy.threshold);
  if (threshold.kind === 'quantity') return { value: threshold.value, text: policy.threshold };

  const format = metric === 'cpu' ? formatMillicores : roughBytes;
  let requested = 0;
  for (const container of pod.spec?.containers ?? []) {
    const request = container.resources?.requests?.[metric];
    // A container without a request has no share to take a percentage of.
    if (request === undefined) {
      return {
        unavailable:
          `container ${container.name} requests no ${metric}: ` +
          `a threshold of ${String(threshold.percent)}% of the requests cannot apply`,
      };
    }
    requested += inUnitOf(metric, request);
  }

  const value = (requested * threshold.percent) / 100;
  const percent = `${String(threshold.percent)}%`;
  return {
    value,
    text: `${percent} of the requested ${format(requested)} (${format(Math.round(value))})`,
  };
}

function inUnitOf(metric: PolicyMetric, quantity: string): number {
  return metric === 'cpu' ? cpuToMillicores(quantity) : memoryToBytes(quantity);
}

/** Bytes with a unit always: exact when whole in some unit, else in Mi to one decimal. */
function roughBytes(bytes: number): string {
  const exact = formatBytes(bytes);
  if (exact !== String(bytes)) return exact;
  return `${(bytes / 2 ** 20).toFixed(1)}Mi`;
}
