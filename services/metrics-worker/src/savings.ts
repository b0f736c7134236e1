import type { MeasuredResources, ResourceFigures, Saving, Savings } from '@aso/shared';

interface Figures {
  cpu_millicores: number;
  memory_bytes: number;
}

/**
 * What the migration saved: requested and measured figures apart. A measured
 * saving exists only when both the original and the new pod were measured;
 * otherwise it says which side is missing and why.
 */
export function computeSavings(original: ResourceFigures, optimized: ResourceFigures): Savings {
  return {
    requested: difference(original.requested, optimized.requested),
    measured: measuredDifference(original.measured, optimized.measured),
  };
}

function measuredDifference(
  before: MeasuredResources,
  after: MeasuredResources,
): Savings['measured'] {
  if (before.status === 'unmeasured') {
    return { status: 'unmeasured', reason: `original pod: ${before.reason}` };
  }
  if (after.status === 'unmeasured') {
    return { status: 'unmeasured', reason: `new pod: ${after.reason}` };
  }
  return { status: 'measured', ...difference(before, after) };
}

function difference(before: Figures, after: Figures): Saving {
  const cpu = before.cpu_millicores - after.cpu_millicores;
  const memory = before.memory_bytes - after.memory_bytes;

  return {
    cpu_millicores: cpu,
    memory_bytes: memory,
    cpu_percent: percent(cpu, before.cpu_millicores),
    memory_percent: percent(memory, before.memory_bytes),
  };
}

function percent(saved: number, before: number): number | null {
  return before > 0 ? Math.round((saved / before) * 1000) / 10 : null;
}
