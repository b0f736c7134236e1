import { describe, expect, it } from 'vitest';

import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { newMigrationRecord, type MigrationRecord } from './migration.ts';
import { LABEL_MIGRATION_ID, refuseUnfinishedOwner } from './migration-ownership.ts';
import { pod } from './preflight/test-fixtures.ts';

const REQUEST = { ...SAMPLE_REQUEST, pod_name: 's4' };

function reader(status: MigrationRecord['status'] | null) {
  return (id: string) =>
    Promise.resolve(
      status === null ? null : { ...newMigrationRecord(id, REQUEST, new Date()), status },
    );
}

const newPod = pod(
  's4-m0a1b2c',
  { nodeName: 'worker-2' },
  { labels: { [LABEL_MIGRATION_ID]: 'a' } },
);

describe('refuseUnfinishedOwner', () => {
  it('refuses the new pod of a migration that has not finished, naming it', async () => {
    for (const status of ['pending', 'waiting', 'running'] as const) {
      await expect(refuseUnfinishedOwner(reader(status), newPod)).rejects.toMatchObject({
        code: 'migration-in-progress',
        migrationId: 'a',
        message: expect.stringContaining('new pod of migration a') as unknown,
      });
    }
  });

  it('lets through a finished or expired owner, an unlabelled pod, and its own migration', async () => {
    for (const status of ['completed', 'failed', 'cancelled', null] as const) {
      await expect(refuseUnfinishedOwner(reader(status), newPod)).resolves.toBeUndefined();
    }
    await expect(refuseUnfinishedOwner(reader('running'), pod('x'))).resolves.toBeUndefined();
    await expect(refuseUnfinishedOwner(reader('running'), newPod, 'a')).resolves.toBeUndefined();
  });
});
