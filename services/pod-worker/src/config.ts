import { z } from 'zod';

import { loadConfig, parseQuantity } from '@aso/shared';

import type { PodStageSettings } from './pod-stage.ts';

const podWorkerSchema = z.object({
  /** Size of a new checkpoint claim. Default 1Gi. */
  ASO_CHECKPOINT_SIZE: z
    .string()
    .refine((size) => safeQuantity(size), 'must be a Kubernetes quantity such as 1Gi')
    .default('1Gi'),
  /** StorageClass of a new checkpoint claim. Default: the cluster's default class. */
  ASO_CHECKPOINT_STORAGE_CLASS: z.string().min(1).optional(),
  /** Wait between the new pod being Ready and its measurement, in ms. Default 60000. */
  ASO_STABILISATION_DELAY_MS: z.coerce.number().int().min(0).default(60_000),
  /** Time an original may take beyond its grace period to disappear, in ms. Default 30000. */
  ASO_REMOVAL_SLACK_MS: z.coerce.number().int().min(0).default(30_000),
  /** Time a break-before-make rollback waits for the re-created original, in ms. Default 120000. */
  ASO_ROLLBACK_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
});

export function loadPodStageSettings(env: NodeJS.ProcessEnv): PodStageSettings {
  const config = loadConfig(podWorkerSchema, env);

  return {
    checkpoint: {
      size: config.ASO_CHECKPOINT_SIZE,
      storageClass: config.ASO_CHECKPOINT_STORAGE_CLASS,
    },
    stabilisationDelayMs: config.ASO_STABILISATION_DELAY_MS,
    removalSlackMs: config.ASO_REMOVAL_SLACK_MS,
    rollbackTimeoutMs: config.ASO_ROLLBACK_TIMEOUT_MS,
  };
}

function safeQuantity(value: string): boolean {
  try {
    parseQuantity(value);
    return true;
  } catch {
    return false;
  }
}
