import { randomUUID } from 'node:crypto';

import {
  isFinished,
  resolvedMigrationRequestSchema,
  newMigrationRecord,
  type MigrationRecord,
  type MigrationStore,
  type StageQueues,
} from '@aso/shared';

import { eventually } from '../setup/kube.ts';

/**
 * Stores a migration and queues its capture as the gateway would, without one.
 * `timeout` may be below the API's minimum, so that deadline paths run quickly.
 */
export async function submitDirectly(
  store: MigrationStore,
  queues: StageQueues,
  request: Record<string, unknown> & { timeout: number },
): Promise<string> {
  const parsed = resolvedMigrationRequestSchema.parse({ ...request, timeout: 30 });
  const record = newMigrationRecord(
    randomUUID(),
    { ...parsed, timeout: request.timeout },
    new Date(),
  );

  await store.create(record);
  await queues.enqueue('capture', record.migration_id);
  return record.migration_id;
}

/** Waits until the migration has ended (completed, failed or cancelled), read from the store. */
export function finishedInStore(
  store: MigrationStore,
  migrationId: string,
  timeoutMs: number,
): Promise<MigrationRecord> {
  return eventually(
    async () => {
      const record = await store.require(migrationId);
      return isFinished(record) ? record : undefined;
    },
    { timeoutMs, what: `migration ${migrationId} to finish` },
  );
}
