import { describe, expect, it } from 'vitest';

import { chartRows, chartSvg } from './chart.ts';
import { evaluate } from './evaluate.ts';
import { formatNumber, formatRatio } from './format.ts';
import { reportJson, reportMarkdown, type BenchReport } from './report.ts';
import type { Comparison, Section } from './types.ts';

function comparison(overrides: Partial<Comparison> = {}): Comparison {
  return {
    id: 'enqueue.p99',
    title: 'POST latency at half saturation',
    unit: 'ms',
    better: 'lower',
    subject: { label: 'POST /api/v1/migrations', samples: [2, 4, 6, 8] },
    baseline: { label: 'no-op route', samples: [1, 1, 2, 2] },
    goal: { ratio: 3, on: 'p99', text: 'p99 at most 3 times the no-op route' },
    warmupRounds: 5,
    notes: ['measured in-process'],
    ...overrides,
  };
}

function report(sections: Section[]): BenchReport {
  return {
    date: '2026-12-04T21:30:00.000Z',
    command: 'npm run bench -- --quick',
    quick: true,
    durationSeconds: 12.5,
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      memoryGiB: 8,
      freeMemoryGiB: 4,
      os: 'Linux 6',
      loadBefore: [0.5, 0.4, 0.3],
      loadAfter: [1, 0.8, 0.5],
    },
    versions: { node: 'v24.0.0', redis: '7.0.15', commit: 'abc123' },
    sections,
    failures: [{ item: 5, name: 'scaling', error: 'cluster absent' }],
  };
}

describe('evaluate', () => {
  it('computes ratios of p50 and p99 and judges the goal on the chosen one', () => {
    const result = evaluate(comparison());
    expect(result.ratioP50).toBe(4);
    expect(result.ratioP99).toBe(4);
    expect(result.verdict).toBe('MISSED');
    expect(evaluate(comparison({ goal: { ratio: 4, on: 'p99', text: '' } })).verdict).toBe('met');
  });

  it('judges higher-is-better goals from below', () => {
    const rate = comparison({
      better: 'higher',
      subject: { label: 'POST', samples: [400] },
      baseline: { label: 'queue.add', samples: [1000] },
      goal: { ratio: 0.5, on: 'p50', text: 'at least half' },
    });
    expect(evaluate(rate).verdict).toBe('MISSED');
    expect(evaluate({ ...rate, subject: { label: 'POST', samples: [600] } }).verdict).toBe('met');
  });

  it('says so when a side has no samples or there is no goal', () => {
    expect(evaluate(comparison({ baseline: { label: 'b', samples: [] } })).verdict).toBe(
      'no samples',
    );
    const { goal: _goal, ...withoutGoal } = comparison();
    expect(evaluate(withoutGoal).verdict).toBe('no goal');
  });
});

describe('reportMarkdown', () => {
  const section: Section = {
    item: 3,
    title: 'Enqueue',
    comparisons: [comparison()],
    series: [
      {
        id: 's',
        title: 'Saturation search',
        columns: ['concurrency', 'rate'],
        rows: [[1, 123.456]],
      },
    ],
    notes: ['fixture planner'],
  };
  const markdown = reportMarkdown(report([section]));

  it('has the header: date, command, machine, load and versions', () => {
    expect(markdown).toContain('- Date: 2026-12-04T21:30:00.000Z');
    expect(markdown).toContain('`npm run bench -- --quick`');
    expect(markdown).toContain('Test CPU, 2 cores, 8 GiB memory');
    expect(markdown).toContain('before 0.5 / 0.4 / 0.3, after 1 / 0.8 / 0.5');
    expect(markdown).toContain('node v24.0.0; redis 7.0.15; commit abc123');
    expect(markdown).toContain('nearest-rank');
  });

  it('prints each side, the ratios and a plain verdict', () => {
    expect(markdown).toContain(
      '| 3 | POST latency at half saturation | 4× | 4× | p99 at most 3 times the no-op route | MISSED |',
    );
    expect(markdown).toContain(
      '| subject | POST /api/v1/migrations | 4 | 4 | 8 | 5 | 2 | 8 | ms |',
    );
    expect(markdown).toContain('| baseline | no-op route | 4 | 1 | 2 | 1.5 | 1 | 2 | ms |');
    expect(markdown).toContain('**MISSED**');
    expect(markdown).toContain('Warm-up: 5 rounds dropped.');
    expect(markdown).toContain('- measured in-process');
  });

  it('prints series as tables and lists the measures that failed', () => {
    expect(markdown).toContain('| 1 | 123 |');
    expect(markdown).toContain('- 5. scaling: cluster absent');
  });
});

describe('reportJson', () => {
  it('keeps every raw sample beside the computed result', () => {
    const parsed = JSON.parse(
      reportJson(report([{ item: 3, title: 'Enqueue', comparisons: [comparison()] }])),
    ) as {
      sections: {
        comparisons: (Comparison & { result: { verdict: string; ratioP99: number } })[];
      }[];
    };
    const written = parsed.sections[0]?.comparisons[0];
    expect(written?.subject.samples).toEqual([2, 4, 6, 8]);
    expect(written?.result).toMatchObject({ verdict: 'MISSED', ratioP99: 4 });
  });

  it('rounds samples to a thousandth of their unit', () => {
    const precise = comparison({ subject: { label: 'a', samples: [1.23456789] } });
    const text = reportJson(report([{ item: 3, title: 'Enqueue', comparisons: [precise] }]));
    expect(text).toContain('"samples":[1.235]');
  });
});

describe('chartSvg', () => {
  it('draws one labelled row per comparison with its goal line', () => {
    const svg = chartSvg(
      chartRows([{ item: 3, title: 'Enqueue', comparisons: [comparison()] }]),
      'Title & more',
    );
    expect(svg).toContain('3. POST latency at half saturation');
    expect(svg).toContain('Title &amp; more');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('4×');
  });
});

describe('chart rows at the edges of a log scale', () => {
  it('prints a zero ratio without a bar and marks ratios beyond the axis as clipped', () => {
    const zero = comparison({
      subject: { label: 'a', samples: [0] },
      baseline: { label: 'b', samples: [5] },
    });
    const tiny = comparison({
      subject: { label: 'a', samples: [1] },
      baseline: { label: 'b', samples: [1e6] },
    });
    const svg = chartSvg(
      chartRows([{ item: 7, title: 'edges', comparisons: [zero, tiny] }]),
      'edges',
    );
    expect(svg).toContain('p50 0× (no bar on a log scale)');
    expect(svg).toContain('(clipped)');
  });
});

describe('formatNumber', () => {
  it('prints whole numbers whole and keeps a few significant digits otherwise', () => {
    expect(formatNumber(40)).toBe('40');
    expect(formatNumber(1234.6)).toBe('1,235');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.5)).toBe('1.5');
    expect(formatNumber(0.00034)).toBe('0.00034');
    expect(formatNumber(undefined)).toBe('–');
    expect(formatRatio(2)).toBe('2×');
  });
});
