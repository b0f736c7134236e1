import type { MigrationPlan, MigrationRecord, MigrationRequest } from '@aso/shared';

import type { ApiClient } from './api-client.ts';
import type { Invocation } from './args.ts';
import { EXIT, type ExitCode } from './cli-error.ts';
import { describePlan, describeRecord, listTable } from './format-record.ts';
import type { Output } from './output.ts';

const MIGRATIONS = '/api/v1/migrations';

function migrationPath(id: string): string {
  return `${MIGRATIONS}/${encodeURIComponent(id)}`;
}

export async function getMigration(
  client: ApiClient,
  id: string,
  output: Output,
): Promise<ExitCode> {
  const { body } = await client.get<MigrationRecord>(migrationPath(id));
  if (output.format === 'json') output.json(body);
  else output.lines(describeRecord(body));
  return EXIT.ok;
}

export async function listMigrations(
  client: ApiClient,
  limit: number | undefined,
  output: Output,
): Promise<ExitCode> {
  const query = limit === undefined ? '' : `?limit=${limit}`;
  const { body } = await client.get<{ items: MigrationRecord[]; count: number }>(
    `${MIGRATIONS}${query}`,
  );
  if (output.format === 'json') output.json(body);
  else output.lines(listTable(body.items));
  return EXIT.ok;
}

/** 200: ended at once (no stage had begun); 202: the running stage rolls back. */
export async function cancelMigration(
  client: ApiClient,
  id: string,
  output: Output,
): Promise<ExitCode> {
  const { status, body } = await client.request<MigrationRecord>('DELETE', migrationPath(id));
  if (output.format === 'json') {
    output.json(body);
  } else if (status === 200) {
    output.lines([`migration ${id} cancelled`]);
  } else {
    output.lines([
      `cancel requested: the ${body.stage ?? 'running'} stage of migration ${id} rolls back ` +
        'and ends it cancelled',
      `follow it with: aso get ${id}`,
    ]);
  }
  return EXIT.ok;
}

type PlanInvocation = Extract<Invocation, { command: 'plan' }>;

export async function planMigration(
  client: ApiClient,
  invocation: PlanInvocation,
  output: Output,
): Promise<ExitCode> {
  const body = {
    pod_name: invocation.pod,
    ...(invocation.namespace !== undefined && { pod_namespace: invocation.namespace }),
    ...(invocation.from !== undefined && { source_node: invocation.from }),
    target_node: invocation.to,
    dry_run: true,
  };
  const { body: answer } = await client.request<{ request: MigrationRequest; plan: MigrationPlan }>(
    'POST',
    MIGRATIONS,
    body,
  );
  if (output.format === 'json') output.json(answer);
  else output.lines(describePlan(answer.plan));
  return EXIT.ok;
}
