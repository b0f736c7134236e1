import { z } from 'zod';

import { loadConfig } from '@aso/shared';

export interface CaptureStageSettings {
  /** Migrations allowed to work on the cluster at once, cluster-wide and per source node. */
  maxInFlight: number;
  maxInFlightPerNode: number;
  /** How long a migration held back by a cap waits before it asks again, in ms. */
  admissionRetryMs: number;
}

export const DEFAULT_CAPTURE_SETTINGS: CaptureStageSettings = {
  maxInFlight: 5,
  maxInFlightPerNode: 2,
  admissionRetryMs: 2_000,
};

const captureWorkerSchema = z.object({
  /** Migrations in flight cluster-wide, from capture to their end. Default 5. */
  ASO_MAX_IN_FLIGHT: z.coerce.number().int().min(1).default(DEFAULT_CAPTURE_SETTINGS.maxInFlight),
  /** Migrations in flight moving pods off one source node. Default 2. */
  ASO_MAX_IN_FLIGHT_PER_NODE: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_CAPTURE_SETTINGS.maxInFlightPerNode),
  /** Pause of a migration held back by a cap before it asks again, in ms. Default 2000. */
  ASO_ADMISSION_RETRY_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(DEFAULT_CAPTURE_SETTINGS.admissionRetryMs),
});

export function loadCaptureStageSettings(env: NodeJS.ProcessEnv): CaptureStageSettings {
  const config = loadConfig(captureWorkerSchema, env);

  return {
    maxInFlight: config.ASO_MAX_IN_FLIGHT,
    maxInFlightPerNode: config.ASO_MAX_IN_FLIGHT_PER_NODE,
    admissionRetryMs: config.ASO_ADMISSION_RETRY_MS,
  };
}
