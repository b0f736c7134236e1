import type { AppsV1Api, V1Pod } from '@kubernetes/client-node';

import {
  cancelRequested,
  MigrationCancelledError,
  type KubeClients,
  type MigrationRecord,
  type StageContext,
} from '@aso/shared';

import type { CheckpointSettings } from './checkpoint-claim.ts';

export interface PodStageSettings {
  checkpoint: CheckpointSettings;
  /** Wait before the metrics stage measures the new pod, in ms. */
  stabilisationDelayMs: number;
  /** Extra time granted to a removed pod beyond its grace period to disappear, in ms. */
  removalSlackMs: number;
  /**
   * How long a break-before-make rollback waits for the re-created original to be
   * Ready, in ms. Default 120000.
   */
  rollbackTimeoutMs?: number;
}

export const DEFAULT_ROLLBACK_TIMEOUT_MS = 120_000;

/** What every step of the switch works with. */
export interface SwitchContext {
  kube: KubeClients;
  apps: AppsV1Api;
  settings: PodStageSettings;
  stage: StageContext;
}

/** One way of switching from the original to the new pod, and of undoing it. */
export interface SwitchStrategyHandler {
  /** Runs the switch; every step looks first at what an earlier attempt already did. */
  run(context: SwitchContext): Promise<void>;
  /** Puts the original back in service; safe to call more than once. */
  rollback(context: SwitchContext): Promise<string[]>;
}

export function migrationId(context: SwitchContext): string {
  return context.stage.record.migration_id;
}

/** The record as it is now: another attempt may have moved on since this one started. */
export function freshRecord(context: SwitchContext): Promise<MigrationRecord> {
  return context.stage.store.require(migrationId(context));
}

export function updateRecord(
  context: SwitchContext,
  mutate: (record: MigrationRecord) => void,
): Promise<MigrationRecord> {
  return context.stage.store.update(migrationId(context), mutate);
}

/**
 * Marks the point of no return, unless an operator cancelled the migration first:
 * then the stage stops here and rolls back. The check and the mark are one atomic
 * update, so a cancel and a switch can never both win.
 */
export function beginSwitch(
  context: SwitchContext,
  mutate: (record: MigrationRecord) => void,
): Promise<MigrationRecord> {
  return updateRecord(context, (record) => {
    if (cancelRequested(record)) throw new MigrationCancelledError(record.migration_id);
    record.progress.switch_started = true;
    mutate(record);
  });
}

/** Time a deleted pod may take to disappear: its grace period plus the slack. */
export function removalWaitMs(context: SwitchContext, pod: V1Pod): number {
  const graceSeconds = pod.spec?.terminationGracePeriodSeconds ?? 30;
  return graceSeconds * 1000 + context.settings.removalSlackMs;
}
