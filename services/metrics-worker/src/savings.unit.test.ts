import { describe, expect, it } from 'vitest';

import type { MeasuredResources } from '@aso/shared';

import { resourceFigures } from '../../../test/support/resource-figures.ts';
import { computeSavings } from './savings.ts';

const MI = 2 ** 20;

function sample(cpu: number, memoryMi: number): MeasuredResources {
  return {
    status: 'measured',
    cpu: `${cpu}m`,
    memory: `${memoryMi}Mi`,
    cpu_millicores: cpu,
    memory_bytes: memoryMi * MI,
    timestamp: '2026-01-01T00:00:00Z',
    window: '30s',
    containers: [],
  };
}

describe('savings', () => {
  it('subtracts requested and measured figures apart', () => {
    const savings = computeSavings(
      resourceFigures(1600, 2688, sample(920, 1600)),
      resourceFigures(1100, 2176, sample(910, 1590)),
    );

    expect(savings.requested).toEqual({
      cpu_millicores: 500,
      memory_bytes: 512 * MI,
      cpu_percent: 31.3,
      memory_percent: 19,
    });
    expect(savings.measured).toEqual({
      status: 'measured',
      cpu_millicores: 10,
      memory_bytes: 10 * MI,
      cpu_percent: 1.1,
      memory_percent: 0.6,
    });
  });

  it('keeps a missing measurement missing, saying which side lacks it', () => {
    const unmeasured: MeasuredResources = { status: 'unmeasured', reason: 'no sample yet' };

    expect(
      computeSavings(resourceFigures(100, 64, unmeasured), resourceFigures(100, 64, sample(1, 1)))
        .measured,
    ).toEqual({
      status: 'unmeasured',
      reason: 'original pod: no sample yet',
    });
    expect(
      computeSavings(resourceFigures(100, 64, sample(1, 1)), resourceFigures(100, 64, unmeasured))
        .measured,
    ).toEqual({
      status: 'unmeasured',
      reason: 'new pod: no sample yet',
    });
  });

  it('has no percentage when nothing was requested', () => {
    expect(
      computeSavings(resourceFigures(0, 0, sample(0, 0)), resourceFigures(0, 0, sample(0, 0)))
        .requested,
    ).toEqual({
      cpu_millicores: 0,
      memory_bytes: 0,
      cpu_percent: null,
      memory_percent: null,
    });
  });
});
