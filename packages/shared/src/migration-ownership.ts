import type { V1Pod } from '@kubernetes/client-node';

import { MigrationInProgressError } from './errors.ts';
import { isFinished, type MigrationRecord } from './migration.ts';

/** On every new pod the pod worker creates: the id of the migration that made it. */
export const LABEL_MIGRATION_ID = 'aso.dev/migration-id';

/** Reads a migration record by id; null when it does not exist (or has expired). */
export type MigrationReader = (migrationId: string) => Promise<MigrationRecord | null>;

/** A pod that is the new pod of a migration still running: moving it races that migration. */
export class PodOfUnfinishedMigrationError extends MigrationInProgressError {
  constructor(pod: string, migrationId: string) {
    super(pod, migrationId);
    this.message =
      `pod ${pod} is the new pod of migration ${migrationId}, which has not finished; ` +
      'wait for it to end before moving this pod';
  }
}

/**
 * Refuses a pod created by a migration that has not finished (it carries that
 * migration's id label): a second migration of it would be undone, or would undo
 * the first, when the first rolls back. The pod lock does not see it, because the
 * new pod has a name of its own. `ownId` is the migration asking, which never
 * refuses itself.
 */
export async function refuseUnfinishedOwner(
  read: MigrationReader,
  pod: V1Pod,
  ownId?: string,
): Promise<void> {
  const owner = pod.metadata?.labels?.[LABEL_MIGRATION_ID];
  if (owner === undefined || owner === '' || owner === ownId) return;

  const record = await read(owner);
  if (record === null || isFinished(record)) return;
  const name = `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
  throw new PodOfUnfinishedMigrationError(name, owner);
}
