import type { MigrationPlan, MigrationRecord } from '@aso/shared';

import { cpu, memory, savingLines } from './format-figures.ts';
import { clock, formatDuration } from './progress.ts';

const STAGES = ['capture', 'pod', 'metrics'] as const;

/** "default/tf-train-0 worker-1 -> worker-2" */
export function subjectOf(record: MigrationRecord): string {
  const { pod_namespace, pod_name, source_node, target_node } = record.request;
  return `${pod_namespace}/${pod_name} ${source_node} -> ${target_node}`;
}

/** `aso get`: everything an operator asks of one migration, a fact a line. */
export function describeRecord(record: MigrationRecord): string[] {
  const lines = [
    `migration  ${record.migration_id}`,
    `status     ${statusLine(record)}`,
    `pod        ${subjectOf(record)}`,
    `message    ${record.message}`,
    `stages     ${STAGES.map((stage) => stageSummary(record, stage)).join(', ')}`,
  ];
  const details = record.details;
  if (details.new_pod_name) {
    const ready = details.new_pod_ready_at ? `, Ready at ${clock(details.new_pod_ready_at)}` : '';
    lines.push(`new pod    ${details.new_pod_name} on ${details.new_pod_node ?? '?'}${ready}`);
  }
  if (details.strategy) lines.push(`strategy   ${strategyLine(record)}`);
  if (details.pv_claim_name)
    lines.push(`checkpoint ${details.pv_claim_name} at ${details.checkpoint_path ?? '?'}`);
  if (record.error) lines.push(`error      ${errorLine(record)}`);
  if (details.savings || record.status === 'completed') {
    lines.push(
      ...savingLines(details.original_resources, details.optimized_resources, details.savings),
    );
  }
  lines.push(...warningLines(details.warnings));
  return lines;
}

/** The last words of `aso migrate`: how it ended, then what it saved. */
export function outcomeLines(record: MigrationRecord): string[] {
  const took = record.duration_ms === null ? '' : ` in ${formatDuration(record.duration_ms)}`;
  if (record.status === 'completed') {
    const { pod_namespace: namespace, pod_name: name, target_node: target } = record.request;
    const { new_pod_name: newPod, new_pod_node: newNode } = record.details;
    const moved = newPod ? `: ${namespace}/${name} is now ${newPod} on ${newNode ?? target}` : '';
    return [
      `completed${took}${moved}`,
      ...(record.details.strategy ? [`strategy   ${strategyLine(record)}`] : []),
      ...savingLines(
        record.details.original_resources,
        record.details.optimized_resources,
        record.details.savings,
      ),
      ...warningLines(record.details.warnings),
    ];
  }
  return [
    `${record.status}${took}: ${record.error ? errorLine(record) : record.message}`,
    ...warningLines(record.details.warnings),
  ];
}

function statusLine(record: MigrationRecord): string {
  if (record.finished_at) {
    const took = record.duration_ms === null ? '' : `, took ${formatDuration(record.duration_ms)}`;
    return `${record.status} (ended ${record.finished_at}${took})`;
  }
  const stage = record.stage ? `, stage ${record.stage}` : '';
  const cancel = record.cancel_requested_at ? ', cancel requested' : '';
  return `${record.status}${stage}${cancel} (since ${record.created_at})`;
}

function stageSummary(record: MigrationRecord, stage: (typeof STAGES)[number]): string {
  const timing = record.stages[stage];
  if (!timing.started_at) return `${stage} -`;
  if (!timing.finished_at)
    return `${stage} running${timing.attempts > 1 ? ` (attempt ${timing.attempts})` : ''}`;
  const ms = Date.parse(timing.finished_at) - Date.parse(timing.started_at);
  return `${stage} ${formatDuration(ms)}`;
}

function strategyLine(record: MigrationRecord): string {
  const { strategy, removal, downtime_ms } = record.details;
  const parts = [strategy ?? 'unknown'];
  if (removal) parts.push(`original ${removal}`);
  if (downtime_ms !== null) parts.push(`downtime ${downtime_ms} ms`);
  return parts.join(', ');
}

function errorLine(record: MigrationRecord): string {
  const error = record.error;
  if (!error) return '';
  const where = error.stage ? ` in the ${error.stage} stage` : '';
  const rollback = error.rolled_back ? '; rolled back, the original is as it was' : '';
  return `${error.code}${where}: ${error.message}${rollback}`;
}

function warningLines(warnings: string[]): string[] {
  return warnings.map((warning) => `warning    ${warning}`);
}

/** `aso list`: a table, newest first. */
export function listTable(records: MigrationRecord[]): string[] {
  if (records.length === 0) return ['no migrations'];
  const rows = records.map((record) => [
    record.migration_id,
    record.status,
    record.stage ?? '-',
    `${record.request.pod_namespace}/${record.request.pod_name}`,
    `${record.request.source_node} -> ${record.request.target_node}`,
    record.created_at.replace('T', ' ').slice(0, 19),
  ]);
  return table(['ID', 'STATUS', 'STAGE', 'POD', 'NODES', 'CREATED (UTC)'], rows);
}

/** Columns as wide as their widest cell, two spaces apart. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(...all.map((row) => (row[column] ?? '').length)),
  );
  return all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  '),
  );
}

/** `aso plan`: the pre-flight's plan, readable. */
export function describePlan(plan: MigrationPlan): string[] {
  const { before, after } = plan.resources;
  const { pod } = plan;
  const subject = `${pod.namespace}/${pod.name} ${plan.source_node} -> ${plan.target_node}`;
  const [cpuBefore, cpuAfter] = [before, after].map((r) => cpu(r.requested.cpu_millicores));
  const [memoryBefore, memoryAfter] = [before, after].map((r) => memory(r.requested.memory_bytes));
  const lines = [
    `plan       ${subject} (dry run: nothing was changed)`,
    `strategy   ${strategyOf(plan)}: ${plan.volumes.strategy_reason}`,
    `requests   cpu ${cpuBefore ?? ''} -> ${cpuAfter ?? ''}, ` +
      `memory ${memoryBefore ?? ''} -> ${memoryAfter ?? ''}, ` +
      `QoS ${before.qos_class} -> ${after.qos_class}`,
    `target     ${capacityLine(plan)}`,
    `placement  ${plan.placement.description}`,
    'containers',
    ...table(
      ['  NAME', 'ROLE', 'STATE', 'KEEP', 'WHY'],
      plan.containers.map((c) => [
        `  ${c.name}`,
        c.role,
        c.state ?? '-',
        c.keep ? 'yes' : 'no',
        c.reason,
      ]),
    ),
  ];
  if (plan.volumes.volumes.length > 0) {
    lines.push('volumes');
    lines.push(
      ...plan.volumes.volumes.map(
        (v) => `  ${v.name} (${v.kind}${v.claim ? ` ${v.claim}` : ''}): ${v.reason}`,
      ),
    );
  }
  lines.push(...warningLines(plan.warnings));
  return lines;
}

function strategyOf(plan: MigrationPlan): string {
  const controller = plan.controller;
  return controller.kind === 'ReplicaSet'
    ? `replicaset-handoff (ReplicaSet ${controller.name})`
    : plan.volumes.strategy;
}

function capacityLine(plan: MigrationPlan): string {
  const { cpu: cpuFit, memory: memoryFit, node } = plan.capacity;
  const fit = (unit: (value: number) => string, figures: typeof cpuFit) =>
    `${unit(figures.free)} free of ${unit(figures.allocatable)} (needs ${unit(figures.requested)})`;
  return `${node} has cpu ${fit(cpu, cpuFit)}, memory ${fit(memory, memoryFit)}`;
}
