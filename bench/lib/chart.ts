/**
 * The report's chart: one horizontal bar per comparison showing its ratios
 * subject / baseline (p50 and p99) on a log scale, bars growing from 1× (parity with
 * the baseline), with each goal drawn as a dashed line. Built as SVG and rasterised by
 * resvg, so no browser is needed.
 */
import { Resvg } from '@resvg/resvg-js';

import { evaluate, type Verdict } from './evaluate.ts';
import { formatRatio } from './format.ts';
import type { Comparison, Goal, Section } from './types.ts';

/** Ratios beyond these are drawn at the edge, marked as clipped. */
const CLIP_LOW = 1e-4;
const CLIP_HIGH = 1e4;

const WIDTH = 1250;
const LABEL_WIDTH = 540;
const PLOT_LEFT = LABEL_WIDTH + 20;
const PLOT_RIGHT = WIDTH - 70;
const TOP = 70;
const ROW_HEIGHT = 48;
const BAR_HEIGHT = 14;

const COLOURS: Record<Verdict, string> = {
  met: '#2e7d32',
  MISSED: '#c62828',
  'no goal': '#546e7a',
  'no samples': '#9e9e9e',
  'no ratio': '#9e9e9e',
};

export interface ChartRow {
  label: string;
  p50: number | undefined;
  p99: number | undefined;
  goal: Goal | undefined;
  verdict: Verdict;
  better: Comparison['better'];
}

export function chartRows(sections: Section[]): ChartRow[] {
  return sections.flatMap((section) =>
    section.comparisons.map((comparison) => {
      const result = evaluate(comparison);
      return {
        label: `${section.item}. ${comparison.title}`,
        p50: result.ratioP50,
        p99: result.ratioP99,
        goal: comparison.goal,
        verdict: result.verdict,
        better: comparison.better,
      };
    }),
  );
}

export function chartSvg(rows: ChartRow[], title: string): string {
  const scale = logScale(rows);
  const height = TOP + Math.max(rows.length, 1) * ROW_HEIGHT + 60;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(20, 30, escapeXml(title), 'font-size="18" font-weight="bold"'),
    text(
      20,
      52,
      'ratio subject / baseline (log scale; bars start at 1× = parity; solid p50, pale p99; dashed line: goal)',
      'font-size="12" fill="#444"',
    ),
    ...axis(scale, height),
    ...rows.flatMap((row, index) => rowParts(row, TOP + index * ROW_HEIGHT, scale)),
  ];
  if (rows.length === 0)
    parts.push(text(PLOT_LEFT, TOP + 30, 'no comparisons measured', 'font-size="14"'));
  parts.push('</svg>');
  return parts.join('\n');
}

export function chartPng(svg: string): Buffer {
  const png = new Resvg(svg, { background: '#ffffff', font: { loadSystemFonts: true } }).render();
  return png.asPng();
}

interface Scale {
  low: number;
  high: number;
  x: (value: number) => number;
}

/** A log10 scale spanning whole decades around every ratio, goal and 1×. */
function logScale(rows: ChartRow[]): Scale {
  const values = rows
    .flatMap((row) => [row.p50, row.p99, row.goal?.ratio])
    .filter((value): value is number => value !== undefined && value > 0)
    .map(clip);
  const low = 10 ** Math.floor(Math.log10(Math.min(0.1, ...values)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(10, ...values)));
  const span = Math.log10(high) - Math.log10(low);
  const x = (value: number) =>
    PLOT_LEFT + ((Math.log10(clip(value)) - Math.log10(low)) / span) * (PLOT_RIGHT - PLOT_LEFT);
  return { low, high, x };
}

function axis(scale: Scale, height: number): string[] {
  const parts: string[] = [];
  const bottom = height - 50;
  for (let decade = scale.low; decade <= scale.high * 1.0001; decade *= 10) {
    const x = scale.x(decade).toFixed(1);
    const strong = Math.abs(decade - 1) < 1e-9;
    parts.push(
      `<line x1="${x}" y1="${TOP - 8}" x2="${x}" y2="${bottom}" stroke="${strong ? '#000' : '#ddd'}" stroke-width="${strong ? 1.5 : 1}"/>`,
      text(
        Number(x),
        bottom + 18,
        `${String(Number(decade.toPrecision(1)))}×`,
        'font-size="12" text-anchor="middle" fill="#333"',
      ),
    );
  }
  return parts;
}

function rowParts(row: ChartRow, top: number, scale: Scale): string[] {
  const colour = COLOURS[row.verdict];
  const parts = [
    text(
      LABEL_WIDTH,
      top + 20,
      escapeXml(truncate(row.label, 74)),
      'font-size="13" text-anchor="end"',
    ),
    text(
      LABEL_WIDTH,
      top + 36,
      escapeXml(`${row.verdict} · ${row.better} is better`),
      `font-size="11" text-anchor="end" fill="${colour}"`,
    ),
  ];
  if (row.goal !== undefined) {
    const x = scale.x(row.goal.ratio).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${top + 1}" x2="${x}" y2="${top + 6 + 2 * BAR_HEIGHT + 7}" ` +
        'stroke="#000" stroke-width="2" stroke-dasharray="4 3"/>',
    );
  }
  // Bars and their figures come after the goal line, and figures have a white halo,
  // so a goal line that crosses a figure does not hide it.
  parts.push(
    ...bar('p50', row.p50, top + 6, colour, 1, scale),
    ...bar('p99', row.p99, top + 6 + BAR_HEIGHT + 2, colour, 0.45, scale),
  );
  return parts;
}

function bar(
  name: string,
  value: number | undefined,
  y: number,
  colour: string,
  opacity: number,
  scale: Scale,
): string[] {
  if (value === undefined || value < 0) return [];
  // Zero has no place on a log scale: its figure is printed without a bar.
  if (value === 0) {
    return [
      text(
        scale.x(1) + 4,
        y + BAR_HEIGHT - 3,
        `${name} 0× (no bar on a log scale)`,
        FIGURE_ATTRIBUTES,
      ),
    ];
  }

  const one = scale.x(1);
  const end = scale.x(value);
  const left = Math.min(one, end);
  const width = Math.max(Math.abs(end - one), 2);
  const clipped = value < CLIP_LOW || value > CLIP_HIGH ? ' (clipped)' : '';
  // Labels sit right of the bar's outer end, or right of 1× for bars below parity, so
  // they never run into the row's title on the left.
  const labelX = Math.max(one, end) + 4;
  return [
    `<rect x="${left.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" ` +
      `fill="${colour}" fill-opacity="${opacity}"/>`,
    text(labelX, y + BAR_HEIGHT - 3, `${name} ${formatRatio(value)}${clipped}`, FIGURE_ATTRIBUTES),
  ];
}

/** A figure beside its bar: small, with a white halo over what it crosses. */
const FIGURE_ATTRIBUTES =
  'font-size="11" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"';

function text(x: number, y: number, content: string, attributes: string): string {
  return `<text x="${x}" y="${y}" ${attributes}>${content}</text>`;
}

function clip(value: number): number {
  return Math.min(CLIP_HIGH, Math.max(CLIP_LOW, value));
}

function truncate(label: string, length: number): string {
  return label.length <= length ? label : `${label.slice(0, length - 1)}…`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
