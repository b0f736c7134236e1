/**
 * The report's header: when, how, on what machine and with which versions the
 * figures were taken, so a reader can tell whether two reports are comparable.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  /** 1, 5 and 15 minute load averages. */
  loadBefore: number[];
  loadAfter?: number[];
}

/** Each component's version, or a plain reason it could not be read. */
export type Versions = Record<string, string>;

export function readMachine(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    freeMemoryGiB: round(freemem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    loadBefore: loadavg().map(round),
  };
}

export function readLoad(): number[] {
  return loadavg().map(round);
}

export async function readVersions(root: string, redisUrl: string): Promise<Versions> {
  const bin = join(root, '.local', 'bin');
  return {
    node: process.version,
    kubernetes: versionIn(firstLine(join(bin, 'kube-apiserver'), ['--version'])),
    etcd: versionIn(firstLine(join(bin, 'etcd'), ['--version'])),
    redis: await redisVersion(redisUrl),
    bullmq: packageVersion(root, 'bullmq'),
    hono: packageVersion(root, 'hono'),
    '@kubernetes/client-node': packageVersion(root, '@kubernetes/client-node'),
    commit: gitCommit(root),
  };
}

function firstLine(file: string, args: string[]): string {
  try {
    const out = execFileSync(file, args, { encoding: 'utf8', timeout: 10_000 });
    return out.split('\n')[0]?.trim() ?? '';
  } catch {
    return 'not available (binary absent or failed)';
  }
}

/** "Kubernetes v1.37.2" -> "v1.37.2"; a line without a version is kept whole. */
function versionIn(line: string): string {
  return /v?\d+\.\d+\.\d+\S*/.exec(line)?.[0] ?? line;
}

function packageVersion(root: string, name: string): string {
  try {
    const text = readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function gitCommit(root: string): string {
  try {
    const run = (args: string[]) =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', timeout: 10_000 }).trim();
    const commit = run(['rev-parse', '--short=12', 'HEAD']);
    // Helpers and developers run the bench on a tree with work in progress: say so.
    const dirty = run(['status', '--porcelain', '--untracked-files=no']) !== '';
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown';
  }
}

async function redisVersion(url: string): Promise<string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'not reachable';
  } finally {
    redis.disconnect();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
