/**
 * `npm start`: the whole system on this machine. Starts the local Kubernetes
 * control plane (or uses the cluster named with --kubeconfig), checks Redis, then
 * runs the API and one of each stage worker as child processes. Ctrl-C stops all.
 * Unless API tokens are configured, the API gets a read-write token generated once
 * and kept in the state directory (.local/token).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';

import { startLocalCluster, type LocalCluster } from '@aso/local-cluster';

import { apiAccess, type ApiAccess } from './local-token.ts';
import {
  clusterLogger,
  logFormat,
  prettifyOutput,
  serviceStdout,
  type LogFormat,
} from './log-output.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN_DIR = join(ROOT, '.local', 'bin');
const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kube-scheduler', 'kube-controller-manager'];

/** The stabilisation delay for local runs, shorter than the production default. */
const LOCAL_STABILISATION_DELAY_MS = '15000';

const SERVICES = [
  { name: 'api', entry: 'services/api/src/main.ts' },
  { name: 'capture-worker', entry: 'services/capture-worker/src/main.ts' },
  { name: 'pod-worker', entry: 'services/pod-worker/src/main.ts' },
  { name: 'metrics-worker', entry: 'services/metrics-worker/src/main.ts' },
] as const;

interface Options {
  kubeconfig: string | undefined;
  stateDir: string;
  redisUrl: string;
  port: string;
  logFormat: LogFormat;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: { kubeconfig: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('usage: npm start [-- --kubeconfig PATH]\n');
    console.log('Without --kubeconfig (or ASO_KUBECONFIG) a local control plane is started.');
    process.exit(0);
  }

  return {
    kubeconfig: values.kubeconfig ?? process.env['ASO_KUBECONFIG'],
    stateDir: resolve(process.env['ASO_STATE_DIR'] ?? join(ROOT, '.local')),
    redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    port: process.env['PORT'] ?? '8080',
    logFormat: logFormat(process.env['ASO_LOG_FORMAT']),
  };
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    fail(
      `no Redis answers at ${url}. Start one (redis-server --port 6379 --save "") ` +
        'or point REDIS_URL at yours.',
    );
  } finally {
    redis.disconnect();
  }
}

async function checkPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const server = createServer();
  await new Promise<void>((done) => {
    server.once('error', () => {
      fail(`port ${port} is already in use; stop what uses it or set PORT to another port.`);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        done();
      });
    });
  });
}

function ensureControlPlaneBinaries(): void {
  if (REQUIRED_BINARIES.every((name) => existsSync(join(BIN_DIR, name)))) return;

  console.log(
    'The local control plane is not built yet; building it now (about 12 minutes the first time).',
  );
  const build = spawnSync('bash', [join(ROOT, 'controlplane', 'build.sh')], { stdio: 'inherit' });
  if (build.status !== 0)
    fail('building the control plane failed; see the output above (it needs Go).');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) =>
    server.close(() => {
      done();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Pause before a crashed service is started again, and how many crashes a minute are tolerated. */
const RESTART_DELAY_MS = 1_000;
const MAX_CRASHES_PER_MINUTE = 5;

interface Supervisor {
  /** The Prometheus endpoint of each worker, by service name. */
  metricsUrls: Map<string, string>;
  stopAll(): Promise<void>;
}

/**
 * Runs one process per service and starts a crashed one again, as a process
 * manager would: one service dying must not take the others or the cluster down.
 * A service that keeps crashing is given up on, and everything stops.
 */
async function superviseServices(
  options: Options,
  kubeconfigPath: string,
  access: ApiAccess,
  onGiveUp: (service: string) => void,
): Promise<Supervisor> {
  const running = new Map<string, ChildProcess>();
  const crashes = new Map<string, number[]>();
  let stopping = false;

  const launch = (service: (typeof SERVICES)[number], env: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, [join(ROOT, service.entry)], {
      env,
      stdio: ['inherit', serviceStdout(options.logFormat), 'inherit'],
    });
    prettifyOutput(child, options.logFormat);
    running.set(service.name, child);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const recent = [...(crashes.get(service.name) ?? []), Date.now()].filter(
        (at) => at > Date.now() - 60_000,
      );
      crashes.set(service.name, recent);
      if (recent.length > MAX_CRASHES_PER_MINUTE) {
        onGiveUp(service.name);
        return;
      }
      console.error(
        `npm start: ${service.name} exited (${signal ?? `code ${code}`}); restarting it`,
      );
      setTimeout(() => {
        if (!stopping) launch(service, env);
      }, RESTART_DELAY_MS);
    });
  };

  const metricsUrls = new Map<string, string>();
  for (const service of SERVICES) {
    const env = await serviceEnv(options, kubeconfigPath);
    if (service.name !== 'api') {
      metricsUrls.set(service.name, `http://127.0.0.1:${env['METRICS_PORT'] ?? ''}/metrics`);
    }
    // Only the API needs the token; the workers never see it.
    launch(service, service.name === 'api' ? { ...env, ...access.env } : env);
  }
  return {
    metricsUrls,
    async stopAll() {
      stopping = true;
      await Promise.all([...running.values()].map((child) => stopChild(child)));
    },
  };
}

async function serviceEnv(options: Options, kubeconfigPath: string): Promise<NodeJS.ProcessEnv> {
  return {
    ...process.env,
    ASO_KUBECONFIG: kubeconfigPath,
    REDIS_URL: options.redisUrl,
    HOST: '127.0.0.1',
    PORT: options.port,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    ASO_STABILISATION_DELAY_MS:
      process.env['ASO_STABILISATION_DELAY_MS'] ?? LOCAL_STABILISATION_DELAY_MS,
  };
}

function fail(message: string): never {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const options = readOptions();
  await checkRedis(options.redisUrl);
  await checkPortFree(Number(options.port));
  mkdirSync(options.stateDir, { recursive: true });
  const access = apiAccess(options.stateDir);

  let cluster: LocalCluster | undefined;
  let kubeconfigPath = options.kubeconfig;
  if (!kubeconfigPath) {
    ensureControlPlaneBinaries();
    console.log('Starting the local Kubernetes control plane...');
    cluster = await startLocalCluster({
      binDir: BIN_DIR,
      kubeconfigPath: join(options.stateDir, 'kubeconfig'),
      logger: clusterLogger(options.logFormat, process.env['LOG_LEVEL'] ?? 'info'),
    });
    kubeconfigPath = cluster.kubeconfigPath;
  }

  let stop: (exitCode: number) => Promise<void> = () => Promise.resolve();
  const services = await superviseServices(options, kubeconfigPath, access, (service) => {
    console.error(`npm start: ${service} keeps crashing; stopping everything`);
    void stop(1);
  });
  stop = stopper(services, cluster);
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  // The welcome promises working URLs: wait until every service answers.
  const api = `http://127.0.0.1:${options.port}`;
  const probes = [`${api}/health`, ...[...services.metricsUrls.values()].map(healthOf)];
  if (!(await allAnswering(probes, SERVICES_START_TIMEOUT_MS))) {
    console.error('npm start: not every service answers yet; their logs above say why');
  }
  printWelcome(options, kubeconfigPath, cluster !== undefined, access, services.metricsUrls);
}

/** How long npm start waits for the services to answer before it greets anyway. */
const SERVICES_START_TIMEOUT_MS = 60_000;

function healthOf(metricsUrl: string): string {
  return metricsUrl.replace(/\/metrics$/, '/health');
}

async function allAnswering(urls: string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const answers = async (url: string) => {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
    } catch {
      return false;
    }
  };

  while (Date.now() < deadline) {
    const results = await Promise.all(urls.map(answers));
    if (results.every(Boolean)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

function stopper(services: Supervisor, cluster: LocalCluster | undefined) {
  let stopping = false;

  return async function stopEverything(exitCode: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    console.log('Stopping...');

    await services.stopAll();
    await cluster?.stop();
    process.exit(exitCode);
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();

  return new Promise((done) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 35_000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

function printWelcome(
  options: Options,
  kubeconfigPath: string,
  local: boolean,
  access: ApiAccess,
  metricsUrls: Map<string, string>,
): void {
  const api = `http://127.0.0.1:${options.port}`;
  console.log('');
  console.log('AI Storage Orchestrator is running.');
  console.log(`  API:        ${api}/api/v1/migrations`);
  console.log(`  Reference:  ${api}/api/v1/docs (OpenAPI: ${api}/api/v1/openapi.json)`);
  console.log(`  Bull Board: ${api}/admin/queues (sign in with the token at ${api}/admin)`);
  console.log(`  Readiness:  ${api}/ready`);
  console.log(`  Metrics:    api            ${api}/metrics (bearer token)`);
  for (const [service, url] of metricsUrls)
    console.log(`              ${service.padEnd(14)} ${url}`);
  console.log(`  Kubeconfig: ${kubeconfigPath}${local ? ' (local control plane)' : ''}`);
  if (local)
    console.log(
      `  kubectl:    ${join(BIN_DIR, 'kubectl')} --kubeconfig ${kubeconfigPath} get nodes`,
    );
  printAccess(options, access);
  console.log('Press Ctrl-C to stop.');
  console.log('');
}

function printAccess(options: Options, access: ApiAccess): void {
  if (!access.local) {
    console.log('  API tokens: as configured in ASO_API_TOKENS / ASO_API_TOKENS_FILE');
    return;
  }

  console.log(`  API token:  ${access.local.token} (read-write, kept in ${access.local.path})`);
  console.log(
    `  Try:        curl -H "Authorization: Bearer $(cat ${access.local.path})" ` +
      `http://127.0.0.1:${options.port}/api/v1/migrations`,
  );
}

await main();
