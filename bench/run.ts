/**
 * `npm run bench [-- --quick] [-- --only 3,4] [-- --name NAME]`: runs the measures of
 * the benchmark in item order, each comparing the product with its baseline in the same
 * run, then writes bench/results/NAME.md, .json and .png (NAME defaults to latest).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { chartPng, chartRows, chartSvg } from './lib/chart.ts';
import { readLoad, readMachine, readVersions } from './lib/environment.ts';
import { reportJson, reportMarkdown, type BenchReport, type MeasureFailure } from './lib/report.ts';
import { sharedCluster } from './lib/shared-cluster.ts';
import type { BenchContext, Measure, Section } from './lib/types.ts';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');

/** The measures by the number of their item in the benchmark issue; run in this order. */
const MEASURES: { item: number; file: string }[] = [
  { item: 1, file: 'overhead.ts' },
  { item: 2, file: 'api-requests.ts' },
  { item: 3, file: 'enqueue.ts' },
  { item: 4, file: 'handoff.ts' },
  { item: 5, file: 'scaling.ts' },
  { item: 6, file: 'ready-notice.ts' },
  { item: 7, file: 'downtime.ts' },
  { item: 8, file: 'redis-memory.ts' },
  { item: 9, file: 'cpu.ts' },
];

interface Options {
  quick: boolean;
  only: Set<number> | undefined;
  name: string;
}

const USAGE = `Usage: npm run bench [-- --quick] [-- --only 3,4] [-- --name NAME]

  --quick       a few samples per item: checks that it runs, not figures
  --only LIST   item numbers 1 to 9, separated by commas (default: all)
  --name NAME   report file name under bench/results/ (default: latest)
  -h, --help    this text`;

/** A mistake in the command line: said in one line with the usage, no stack trace. */
class UsageError extends Error {}

function readOptions(): Options | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      // `npm run bench -- --quick -- --only 3` hands the second `--` on: it separates nothing here.
      args: process.argv.slice(2).filter((arg) => arg !== '--'),
      options: {
        quick: { type: 'boolean', default: false },
        // Lists, so that an option given twice is refused rather than the last one kept.
        only: { type: 'string', multiple: true },
        name: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';

  const twice = (['only', 'name'] as const).find((option) => (values[option]?.length ?? 0) > 1);
  if (twice !== undefined) throw new UsageError(`--${twice} is given more than once`);
  const onlyText = values.only?.[0];
  const name = values.name?.[0] ?? 'latest';

  const only = onlyText?.split(',').map((item) => Number(item.trim()));
  if (only?.some((item) => !MEASURES.some((measure) => measure.item === item))) {
    throw new UsageError(
      `--only takes item numbers 1 to 9 separated by commas, got "${onlyText ?? ''}"`,
    );
  }
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw new UsageError(`--name takes a plain file name (letters, digits, . _ -), got "${name}"`);
  }
  return { quick: values.quick, only: only && new Set(only), name };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function runMeasures(
  options: Options,
  context: BenchContext,
): Promise<{ sections: Section[]; failures: MeasureFailure[] }> {
  const sections: Section[] = [];
  const failures: MeasureFailure[] = [];

  for (const { item, file } of MEASURES) {
    if (options.only !== undefined && !options.only.has(item)) continue;
    const path = join(BENCH_DIR, 'measures', file);
    if (!existsSync(path)) {
      log(`item ${item}: ${file} is not written yet, skipped`);
      continue;
    }

    const startedAt = Date.now();
    log(`item ${item}: ${file} started`);
    try {
      const module = (await import(pathToFileURL(path).href)) as { default: Measure };
      sections.push(await module.default(context));
      log(`item ${item}: done in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`item ${item}: failed: ${message}`);
      failures.push({ item, name: file.replace(/\.ts$/, ''), error: message });
    }
  }
  return { sections, failures };
}

async function main(): Promise<void> {
  let options: Options | 'help';
  try {
    options = readOptions();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const startedAt = new Date();
  const machine = readMachine();
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const versions = await readVersions(ROOT, redisUrl);
  const cluster = sharedCluster(ROOT, log);
  const context: BenchContext = { quick: options.quick, log, redisUrl, cluster: cluster.get };

  let outcome: Awaited<ReturnType<typeof runMeasures>>;
  try {
    outcome = await runMeasures(options, context);
  } finally {
    await cluster.stop();
  }

  const report: BenchReport = {
    date: startedAt.toISOString(),
    command: [
      'npm run bench',
      ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : []),
    ].join(' '),
    quick: options.quick,
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: { ...machine, loadAfter: readLoad() },
    versions,
    ...outcome,
  };
  await writeReport(report, options.name);
  // Measures' clients may leave handles (sockets in TIME_WAIT, timers): the report is written.
  // A missed goal is a finding, not a failure; a measure that could not finish is.
  process.exit(report.failures.length > 0 ? 1 : 0);
}

async function writeReport(report: BenchReport, name: string): Promise<void> {
  const dir = join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const title = `AI Storage Orchestrator benchmark, ${report.date.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick run)' : ''}`;

  await writeFile(join(dir, `${name}.md`), reportMarkdown(report));
  await writeFile(join(dir, `${name}.json`), reportJson(report));
  await writeFile(join(dir, `${name}.png`), chartPng(chartSvg(chartRows(report.sections), title)));
  log(`report written to bench/results/${name}.md, .json and .png`);
}

await main();
