/**
 * Writes the benchmark's report: Markdown for people, JSON for tools (with every raw
 * sample, so any figure can be recomputed), both from the same evaluated sections.
 */
import type { Machine, Versions } from './environment.ts';
import { evaluate } from './evaluate.ts';
import { formatNumber, formatRatio } from './format.ts';
import type { Summary } from './stats.ts';
import type { Comparison, Section, Series } from './types.ts';

export interface MeasureFailure {
  item: number;
  name: string;
  error: string;
}

export interface BenchReport {
  /** ISO 8601, UTC, when the run started. */
  date: string;
  command: string;
  quick: boolean;
  durationSeconds: number;
  machine: Machine;
  versions: Versions;
  sections: Section[];
  failures: MeasureFailure[];
}

export function reportJson(report: BenchReport): string {
  const sections = report.sections.map((section) => ({
    ...section,
    comparisons: section.comparisons.map((comparison) => ({
      ...comparison,
      result: evaluate(comparison),
    })),
  }));
  // Thousands of samples: one line, each rounded to a thousandth of its unit (a
  // microsecond for ms), which no figure of the report depends on.
  return `${JSON.stringify({ ...report, sections }, roundNumber)}\n`;
}

function roundNumber(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value)
    ? Math.round(value * 1000) / 1000
    : value;
}

export function reportMarkdown(report: BenchReport): string {
  const lines = [
    '# Benchmark results',
    '',
    ...headerLines(report),
    '',
    '## Summary',
    '',
    ...summaryTable(report.sections),
    ...report.sections.flatMap(sectionLines),
    ...failureLines(report.failures),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

function headerLines(report: BenchReport): string[] {
  const { machine } = report;
  const after = machine.loadAfter === undefined ? '' : `, after ${machine.loadAfter.join(' / ')}`;
  return [
    `- Date: ${report.date}`,
    `- Command: \`${report.command}\``,
    `- Mode: ${report.quick ? 'quick (few samples: checks that the suite runs; not figures to quote)' : 'full'}`,
    `- Duration: ${formatNumber(report.durationSeconds)} s`,
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB memory ` +
      `(${machine.freeMemoryGiB} GiB free at start), ${machine.os}`,
    `- Load average (1 / 5 / 15 min): before ${machine.loadBefore.join(' / ')}${after}`,
    `- Versions: ${Object.entries(report.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join('; ')}`,
    '- Reading it: every figure is a ratio subject / baseline, both measured in this run, ' +
      'interleaved (A B A B ...) after warm-up rounds that are dropped. p50 and p99 are ' +
      'nearest-rank percentiles (a value that was actually measured); n is the number of samples kept.',
  ];
}

function summaryTable(sections: Section[]): string[] {
  const rows = sections.flatMap((section) =>
    section.comparisons.map((comparison) => {
      const result = evaluate(comparison);
      const cells = [
        section.item,
        comparison.title,
        formatRatio(result.ratioP50),
        formatRatio(result.ratioP99),
        comparison.goal?.text ?? '–',
        result.verdict,
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  );
  if (rows.length === 0) return ['No comparisons were measured.', ''];
  return [
    '| item | comparison | ratio p50 | ratio p99 | goal | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}

function sectionLines(section: Section): string[] {
  return [
    `## ${section.item}. ${section.title}`,
    '',
    ...bullets(section.notes),
    ...section.comparisons.flatMap(comparisonLines),
    ...(section.series ?? []).flatMap(seriesLines),
  ];
}

function comparisonLines(comparison: Comparison): string[] {
  const result = evaluate(comparison);
  const warmup =
    comparison.warmupRounds === undefined
      ? ''
      : ` Warm-up: ${comparison.warmupRounds} ${comparison.warmupRounds === 1 ? 'round' : 'rounds'} dropped.`;
  const goal =
    comparison.goal === undefined
      ? 'No goal set.'
      : `Goal: ${comparison.goal.text} (ratio of ${comparison.goal.on}, ${comparison.better === 'lower' ? 'at most' : 'at least'} ${formatNumber(comparison.goal.ratio)}): **${result.verdict}**.`;
  return [
    `### ${comparison.title}`,
    '',
    `| side | what | n | p50 | p99 | mean | min | max | unit |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    summaryRow('subject', comparison.subject.label, result.subject, comparison.unit),
    summaryRow('baseline', comparison.baseline.label, result.baseline, comparison.unit),
    '',
    `Ratio subject / baseline: p50 ${formatRatio(result.ratioP50)}, p99 ${formatRatio(result.ratioP99)} ` +
      `(${comparison.better} is better). ${goal}${warmup}`,
    '',
    ...bullets(comparison.notes),
  ];
}

function summaryRow(
  side: string,
  label: string,
  summary: Summary | undefined,
  unit: string,
): string {
  if (summary === undefined) return `| ${side} | ${label} | 0 | – | – | – | – | – | ${unit} |`;
  const figures = [summary.p50, summary.p99, summary.mean, summary.min, summary.max].map(
    formatNumber,
  );
  return `| ${side} | ${label} | ${summary.n} | ${figures.join(' | ')} | ${unit} |`;
}

function seriesLines(series: Series): string[] {
  const cells = (row: (string | number)[]) =>
    `| ${row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)).join(' | ')} |`;
  return [
    `### ${series.title}`,
    '',
    cells(series.columns),
    `|${series.columns.map(() => ' --- |').join('')}`,
    ...series.rows.map(cells),
    '',
    ...bullets(series.notes),
  ];
}

function failureLines(failures: MeasureFailure[]): string[] {
  if (failures.length === 0) return [];
  return [
    '## Measures that did not finish',
    '',
    ...failures.map((failure) => `- ${failure.item}. ${failure.name}: ${failure.error}`),
    '',
  ];
}

function bullets(notes: string[] | undefined): string[] {
  if (notes === undefined || notes.length === 0) return [];
  return [...notes.map((note) => `- ${note}`), ''];
}
