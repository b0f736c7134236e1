import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LABEL_MIGRATION_ID, type MigrationRequestInput } from '@aso/shared';

import { fixtureCluster, type FixtureCluster } from '../../../test/support/fixture-cluster.ts';
import {
  inProcessApi,
  newToken,
  plannerOverFixtures,
  sendJson,
  type InProcessApi,
} from '../../../test/support/in-process-api.ts';

// A pod that is the new pod of an unfinished migration is refused by every starter:
// a single migration, a batch (by name or selector) and a drain.

const writer = newToken();
let api: InProcessApi;
let cluster: FixtureCluster;

beforeEach(() => {
  cluster = fixtureCluster();
  api = inProcessApi({ tokens: `read-write:${writer}`, cluster, planner: plannerWithLabels });
});

afterEach(async () => {
  await api.close();
});

/** The fixture planner, its pod carrying the labels the fixture cluster gives it. */
async function plannerWithLabels(request: MigrationRequestInput) {
  const planned = await plannerOverFixtures(request);
  const known = await cluster.readPod(request.pod_namespace, request.pod_name);
  if (planned.pod.metadata && known?.metadata?.labels) {
    planned.pod.metadata.labels = { ...known.metadata.labels };
  }
  return planned;
}

function send(method: string, path: string, body?: unknown) {
  return sendJson(api, writer, method, path, body);
}

/** Starts migration A of `s4` and puts its new pod, labelled with A's id, on worker-2. */
async function migrationWithNewPod(): Promise<string> {
  cluster.addPod('s4', 'worker-1', { app: 's' });
  const first = await send('POST', '/api/v1/migrations', {
    pod_name: 's4',
    source_node: 'worker-1',
    target_node: 'worker-2',
  });
  expect(first.status).toBe(202);
  const id = String(first.body['migration_id']);
  cluster.addPod('s4-m0a1b2c', 'worker-2', { app: 's', [LABEL_MIGRATION_ID]: id });
  return id;
}

describe('a pod created by an unfinished migration', () => {
  it('is refused 409 by a single migration, naming the migration, until it ends', async () => {
    const first = await migrationWithNewPod();
    const request = { pod_name: 's4-m0a1b2c', source_node: 'worker-2', target_node: 'worker-3' };

    const refused = await send('POST', '/api/v1/migrations', request);
    expect([refused.status, refused.body['code']]).toEqual([409, 'migration-in-progress']);
    expect(String(refused.body['detail'])).toContain(first);

    const dryRun = await send('POST', '/api/v1/migrations', { ...request, dry_run: true });
    expect(dryRun.status).toBe(409);

    expect((await send('DELETE', `/api/v1/migrations/${first}`)).status).toBe(200);
    expect((await send('POST', '/api/v1/migrations', request)).status).toBe(202);
  });

  it('is refused as a member of a batch by selector and left by a drain', async () => {
    const first = await migrationWithNewPod();
    cluster.addPod('other', 'worker-2', { app: 's' });

    const batch = await send('POST', '/api/v1/batches', {
      match_labels: { app: 's' },
      target_node: 'worker-3',
    });
    expect(batch.status).toBe(202);
    const members = batch.body['members'] as {
      pod: { name: string };
      refused: { code: string; detail: string } | null;
    }[];
    const byName = Object.fromEntries(members.map((m) => [m.pod.name, m.refused]));
    expect(byName['s4-m0a1b2c']?.code).toBe('migration-in-progress');
    expect(byName['s4-m0a1b2c']?.detail).toContain(first);
    expect(byName['other']).toBeNull();
    await send('DELETE', `/api/v1/batches/${String(batch.body['batch_id'])}`);

    const drain = await send('POST', '/api/v1/drains', { node: 'worker-2' });
    expect(drain.status).toBe(202);
    const left = (drain.body['drain'] as { left: { pod: { name: string }; code: string }[] }).left;
    expect(left.find((l) => l.pod.name === 's4-m0a1b2c')?.code).toBe('migration-in-progress');
  });
});
