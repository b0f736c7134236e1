import type { MigrationRequest } from '@aso/shared';

/**
 * The migration request the store and queue tests share: the sample training pod
 * moved from worker-1 to worker-2, every field as the gateway's schema fills it.
 */
export const SAMPLE_REQUEST: MigrationRequest = {
  pod_name: 'tf-train-0',
  pod_namespace: 'default',
  source_node: 'worker-1',
  target_node: 'worker-2',
  preserve_pv: false,
  dry_run: false,
  force: false,
  timeout: 600,
};
