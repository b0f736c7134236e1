import type { MeasuredResources, ResourceFigures, Saving, Savings } from '@aso/shared';

/** Millicores as Kubernetes writes CPU: "1100m". */
export function cpu(millicores: number): string {
  return `${Math.round(millicores)}m`;
}

/** Bytes in Mi (Kubernetes' usual unit for pods), one decimal when not whole. */
export function memory(bytes: number): string {
  const mebibytes = bytes / 2 ** 20;
  return `${Number.isInteger(mebibytes) ? mebibytes : mebibytes.toFixed(1)}Mi`;
}

/** "cpu 1600m -> 1100m (saved 500m, 31.3%)": before, after and what the move saved. */
export function savingLines(
  before: ResourceFigures | null,
  after: ResourceFigures | null,
  savings: Savings | null,
): string[] {
  if (!before || !after || !savings) return ['savings    not known yet'];

  const requested = figuresLine(before.requested, after.requested, savings.requested);
  return [
    `requested  ${requested}`,
    `measured   ${measuredLine(before.measured, after.measured, savings.measured)}`,
  ];
}

interface Figures {
  cpu_millicores: number;
  memory_bytes: number;
}

function figuresLine(before: Figures, after: Figures, saving: Saving): string {
  const cpuSaved = saved(cpu(saving.cpu_millicores), saving.cpu_millicores, saving.cpu_percent);
  const memorySaved = saved(
    memory(saving.memory_bytes),
    saving.memory_bytes,
    saving.memory_percent,
  );
  return (
    `cpu ${cpu(before.cpu_millicores)} -> ${cpu(after.cpu_millicores)} (${cpuSaved}), ` +
    `memory ${memory(before.memory_bytes)} -> ${memory(after.memory_bytes)} (${memorySaved})`
  );
}

function measuredLine(
  before: MeasuredResources,
  after: MeasuredResources,
  saving: Savings['measured'],
): string {
  // A figure that could not be measured is said so; none is made up.
  if (saving.status === 'unmeasured') return `not measured: ${saving.reason}`;
  if (before.status !== 'measured' || after.status !== 'measured') return 'not measured';
  return figuresLine(before, after, saving);
}

function saved(amount: string, value: number, percent: number | null): string {
  const share = percent === null ? '' : `, ${percent}%`;
  if (value > 0) return `saved ${amount}${share}`;
  if (value < 0) return `${amount.replace('-', '+')} more${share.replace('-', '')}`;
  return 'no change';
}
