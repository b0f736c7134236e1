import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually } from '../setup/kube.ts';

const INSTALL_HINT = 'run scripts/ensure-prometheus.sh (installs the Debian package prometheus)';

/** The path of a Prometheus tool, or an error saying how to install it. */
export function requirePrometheusTool(tool: 'prometheus' | 'promtool'): string {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`${tool} is not installed: ${INSTALL_HINT}`);
  }
  return path;
}

export interface ScrapeJob {
  name: string;
  /** http://host:port of each target; the path is /metrics. */
  urls: string[];
  /** A bearer token, written to a file of its own and named by credentials_file. */
  bearerToken?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  url: string;
  /** Runs an instant query; throws on any error Prometheus reports, parse errors included. */
  query(expression: string): Promise<PromSample[]>;
  /** Every metric name Prometheus has scraped. */
  metricNames(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on a free loopback port, scraping the jobs every second, its
 * configuration and data in a temporary directory removed at stop.
 */
export async function startPrometheus(jobs: ScrapeJob[]): Promise<RunningPrometheus> {
  const binary = requirePrometheusTool('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'aso-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), scrapeConfig(jobs, dir));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;

  const child = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));

  const running: RunningPrometheus = {
    url,
    query: (expression) => instantQuery(url, expression),
    metricNames: () => labelValues(url, '__name__'),
    stop: () => stopProcess(child, dir),
  };
  try {
    await eventually(async () => ((await ready(url)) ? true : undefined), {
      timeoutMs: 20_000,
      what: 'Prometheus to be ready',
    });
  } catch (error) {
    await running.stop();
    throw new Error(`Prometheus did not start: ${output.join('').slice(-2000)}`, { cause: error });
  }
  return running;
}

function scrapeConfig(jobs: ScrapeJob[], dir: string): string {
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((job) => {
      const entry: Record<string, unknown> = {
        job_name: job.name,
        metrics_path: '/metrics',
        static_configs: [{ targets: job.urls.map((target) => new URL(target).host) }],
      };
      if (job.bearerToken !== undefined) {
        const file = join(dir, `${job.name}.token`);
        writeFileSync(file, job.bearerToken);
        chmodSync(file, 0o600);
        entry['authorization'] = { type: 'Bearer', credentials_file: file };
      }
      return entry;
    }),
  };
  // JSON is YAML: no YAML writer needed.
  return JSON.stringify(config, null, 2);
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`)).ok;
  } catch {
    return false;
  }
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

async function instantQuery(url: string, expression: string): Promise<PromSample[]> {
  const answer = await apiGet<{ resultType: string; result: PromSample[] | [number, string] }>(
    `${url}/api/v1/query?${new URLSearchParams({ query: expression }).toString()}`,
  );
  if (answer.resultType !== 'vector') {
    throw new Error(`query ${expression} returned a ${answer.resultType}, not a vector`);
  }
  return answer.result as PromSample[];
}

function labelValues(url: string, label: string): Promise<string[]> {
  return apiGet<string[]>(`${url}/api/v1/label/${label}/values`);
}

async function apiGet<T>(address: string): Promise<T> {
  const response = await fetch(address);
  const answer = (await response.json()) as ApiAnswer<T>;
  if (answer.status !== 'success' || answer.data === undefined) {
    throw new Error(
      `Prometheus ${answer.errorType ?? 'error'}: ${answer.error ?? response.status}`,
    );
  }
  return answer.data;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

async function stopProcess(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
