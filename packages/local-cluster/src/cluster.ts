import { rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiextensionsV1Api, CoreV1Api, StorageV1Api, VersionApi } from '@kubernetes/client-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { locateBinaries } from './binaries.ts';
import type { ControlPlaneBinaries } from './binaries.ts';
import { caCertificates } from './certificates.ts';
import type { ClusterLayout } from './component-args.ts';
import { apiserverArgs, controllerManagerArgs, etcdArgs, schedulerArgs } from './component-args.ts';
import type { ClusterCredentials } from './credentials.ts';
import { writeClusterCredentials } from './credentials.ts';
import { onParentExit } from './exit-hooks.ts';
import { buildKubeConfig, writeKubeConfigFile } from './kubeconfig.ts';
import { installMetricsApi } from './metrics-api.ts';
import { freePorts } from './ports.ts';
import type { ManagedProcess } from './processes.ts';
import { describeExit, startProcess } from './processes.ts';
import { httpOk, httpsOk, waitUntil } from './readiness.ts';
import type { NodeSimulator } from './simulator.ts';
import { startNodeSimulator } from './simulator.ts';
import { DEFAULT_NODE_NAMES } from './simulated-nodes.ts';
import { ensureStorageClasses } from './storage-classes.ts';

export interface LocalClusterOptions {
  /** Where etcd, kube-apiserver, kube-scheduler and kube-controller-manager live (.local/bin). */
  binDir: string;
  /** Where to write the admin kubeconfig; defaults to a file in the cluster's temp dir. */
  kubeconfigPath?: string;
  /** Simulated worker nodes; default worker-1, worker-2, worker-3. */
  nodes?: string[];
  /** Component logs go to children of this logger; default: info level to stdout. */
  logger?: Logger;
  /** Upper bound, in seconds, on how long graceful pod deletion takes; default 2. */
  deleteGraceCapSeconds?: number;
}

export interface LocalCluster {
  /** https://127.0.0.1:<port> */
  server: string;
  kubeconfigPath: string;
  /** Admin credentials (system:masters), in memory. */
  kubeConfig: KubeConfig;
  /** kube-apiserver alone, for tests of how clients live through its restart. */
  apiserver: ApiserverControl;
  /** Stops the simulator and every process, then removes the temp data dir. */
  stop(): Promise<void>;
}

export interface ApiserverControl {
  /** Stops kube-apiserver (SIGTERM, then SIGKILL after a grace period); etcd keeps the state. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same arguments; resolves once /readyz answers. */
  start(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

interface Running {
  dataDir: string;
  processes: ManagedProcess[];
  simulator: NodeSimulator | undefined;
  logger: Logger;
  stopping: boolean;
  /** How kube-apiserver was started, so that it can be started again the same way. */
  apiserver?: { command: string; args: string[]; readyz: string; caPem: string };
  /** Components stopped on purpose: their exit is no crash. */
  stoppedOnPurpose: Set<ManagedProcess>;
}

interface Booted {
  server: string;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
}

async function planLayout(dataDir: string): Promise<ClusterLayout> {
  const [
    etcdClientPort = 0,
    etcdPeerPort = 0,
    apiserverPort = 0,
    schedulerPort = 0,
    controllerManagerPort = 0,
  ] = await freePorts(5);
  const layout: ClusterLayout = {
    dataDir,
    etcdClientPort,
    etcdPeerPort,
    apiserverPort,
    schedulerPort,
    controllerManagerPort,
    apiserverCertDir: join(dataDir, 'apiserver-certs'),
    schedulerCertDir: join(dataDir, 'scheduler-certs'),
    controllerManagerCertDir: join(dataDir, 'controller-manager-certs'),
    schedulerKubeconfig: join(dataDir, 'scheduler.kubeconfig'),
    controllerManagerKubeconfig: join(dataDir, 'controller-manager.kubeconfig'),
  };

  for (const dir of [
    layout.apiserverCertDir,
    layout.schedulerCertDir,
    layout.controllerManagerCertDir,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  return layout;
}

function launch(running: Running, name: string, command: string, args: string[]): ManagedProcess {
  const component = startProcess({
    name,
    command,
    args,
    logger: running.logger.child({ component: name }),
  });
  running.processes.push(component);
  return component;
}

async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Self-signed certificates the components generate under --cert-dir: leaf plus its CA. */
async function readServingBundle(
  path: string,
  deadline: number,
  watched: ManagedProcess[],
): Promise<string> {
  await waitUntil(() => fileExists(path), {
    what: `serving certificate ${path}`,
    deadline,
    watched,
  });
  return readFile(path, 'utf8');
}

async function startEtcdAndApiserver(
  running: Running,
  binaries: ControlPlaneBinaries,
  layout: ClusterLayout,
  credentials: ClusterCredentials,
  deadline: number,
): Promise<string> {
  const etcd = launch(running, 'etcd', binaries.etcd, etcdArgs(layout));
  const etcdHealth = `http://127.0.0.1:${layout.etcdClientPort}/health`;
  await waitUntil(() => httpOk(etcdHealth), { what: 'etcd /health', deadline, watched: [etcd] });

  const args = apiserverArgs(layout, credentials);
  const apiserver = launch(running, 'kube-apiserver', binaries.apiserver, args);
  const watched = [etcd, apiserver];
  const caPem = caCertificates(
    await readServingBundle(join(layout.apiserverCertDir, 'apiserver.crt'), deadline, watched),
  );
  const readyz = `https://127.0.0.1:${layout.apiserverPort}/readyz`;
  running.apiserver = { command: binaries.apiserver, args, readyz, caPem };
  await waitUntil(() => httpsOk(readyz, caPem), {
    what: 'kube-apiserver /readyz',
    deadline,
    watched,
  });
  return caPem;
}

function apiserverProcess(running: Running): ManagedProcess | undefined {
  return running.processes.find((component) => component.name === 'kube-apiserver');
}

function controlApiserver(running: Running): ApiserverControl {
  const stop = async (): Promise<void> => {
    const current = apiserverProcess(running);
    if (!current || current.hasExited()) return;
    running.stoppedOnPurpose.add(current);
    await current.stop(STOP_GRACE_MS);
  };

  const start = async (): Promise<void> => {
    const current = apiserverProcess(running);
    const how = running.apiserver;
    if (!how || !current || !current.hasExited() || running.stopping) return;

    const next = startProcess({
      name: 'kube-apiserver',
      command: how.command,
      args: how.args,
      logger: running.logger.child({ component: 'kube-apiserver' }),
    });
    // Same place in the list, so the cluster still stops its clients before it.
    running.processes[running.processes.indexOf(current)] = next;
    reportCrash(running, next);
    await waitUntil(() => httpsOk(how.readyz, how.caPem), {
      what: 'kube-apiserver /readyz after its restart',
      deadline: Date.now() + STARTUP_TIMEOUT_MS,
      watched: [next],
    });
  };

  return { stop, start };
}

async function startControllers(
  running: Running,
  binaries: ControlPlaneBinaries,
  layout: ClusterLayout,
  credentials: ClusterCredentials,
  access: { server: string; caPem: string; caFile: string },
): Promise<void> {
  const { server, caPem } = access;
  const schedulerConfig = buildKubeConfig({
    server,
    caPem,
    token: credentials.tokens.scheduler,
    userName: 'kube-scheduler',
  });
  const managerConfig = buildKubeConfig({
    server,
    caPem,
    token: credentials.tokens.controllerManager,
    userName: 'kube-controller-manager',
  });

  await writeKubeConfigFile(schedulerConfig, layout.schedulerKubeconfig);
  await writeKubeConfigFile(managerConfig, layout.controllerManagerKubeconfig);
  launch(
    running,
    'kube-controller-manager',
    binaries.controllerManager,
    controllerManagerArgs(layout, credentials, access.caFile),
  );
  launch(running, 'kube-scheduler', binaries.scheduler, schedulerArgs(layout));
}

async function bootstrapApis(
  kubeConfig: KubeConfig,
  deadline: number,
  watched: ManagedProcess[],
): Promise<void> {
  const apiextensions = kubeConfig.makeApiClient(ApiextensionsV1Api);
  await installMetricsApi(apiextensions, (what, check) =>
    waitUntil(check, { what, deadline, watched }),
  );
  await ensureStorageClasses(kubeConfig.makeApiClient(StorageV1Api));
}

async function hasDefaultServiceAccount(core: CoreV1Api): Promise<boolean> {
  await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
  return true;
}

/** Ready, and the node-lifecycle controller has lifted its not-ready taint. */
async function nodesSchedulable(core: CoreV1Api, names: readonly string[]): Promise<boolean> {
  const nodes = (await core.listNode()).items.filter((node) =>
    names.includes(node.metadata?.name ?? ''),
  );
  const usable = nodes.filter((node) => {
    const ready = node.status?.conditions?.some(
      (entry) => entry.type === 'Ready' && entry.status === 'True',
    );
    const tainted = node.spec?.taints?.some((taint) => taint.key.startsWith('node.kubernetes.io/'));
    return ready === true && tainted !== true;
  });
  return usable.length === names.length;
}

async function waitForComponents(
  running: Running,
  kubeConfig: KubeConfig,
  layout: ClusterLayout,
  nodeNames: readonly string[],
  deadline: number,
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const watched = running.processes;
  const schedulerCa = await readServingBundle(
    join(layout.schedulerCertDir, 'kube-scheduler.crt'),
    deadline,
    watched,
  );
  const schedulerHealth = `https://127.0.0.1:${layout.schedulerPort}/healthz`;

  await waitUntil(() => hasDefaultServiceAccount(core), {
    what: 'the default ServiceAccount (kube-controller-manager)',
    deadline,
    watched,
  });
  await waitUntil(() => httpsOk(schedulerHealth, schedulerCa), {
    what: 'kube-scheduler /healthz',
    deadline,
    watched,
  });
  await waitUntil(() => nodesSchedulable(core, nodeNames), {
    what: 'simulated nodes Ready',
    deadline,
    watched,
  });
}

async function stopRunning(running: Running): Promise<void> {
  running.stopping = true;
  try {
    await running.simulator?.stop();
  } finally {
    // Clients first, then the apiserver, then its storage.
    for (const component of [...running.processes].reverse()) {
      await component.stop(STOP_GRACE_MS);
    }
    await rm(running.dataDir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** A component dying after startup is not recoverable here; say so loudly with its output. */
function reportCrashes(running: Running): void {
  for (const component of running.processes) {
    reportCrash(running, component);
  }
}

function reportCrash(running: Running, component: ManagedProcess): void {
  void component.exited.then((exit) => {
    if (!running.stopping && !running.stoppedOnPurpose.has(component)) {
      running.logger.error(describeExit(component, exit));
    }
  });
}

async function kubeletVersion(kubeConfig: KubeConfig): Promise<string> {
  const version = await kubeConfig.makeApiClient(VersionApi).getCode();
  return version.gitVersion;
}

/** Starts every component in dependency order and waits until the cluster is usable. */
async function boot(
  running: Running,
  options: LocalClusterOptions,
  binaries: ControlPlaneBinaries,
  deadline: number,
): Promise<Booted> {
  const credentials = await writeClusterCredentials(running.dataDir);
  const layout = await planLayout(running.dataDir);
  const server = `https://127.0.0.1:${layout.apiserverPort}`;
  const caPem = await startEtcdAndApiserver(running, binaries, layout, credentials, deadline);
  const caFile = join(running.dataDir, 'cluster-ca.crt');
  const token = credentials.tokens.admin;
  const kubeConfig = buildKubeConfig({ server, caPem, token, userName: 'aso-admin' });
  const kubeconfigPath = options.kubeconfigPath ?? join(running.dataDir, 'admin.kubeconfig');
  const nodeNames = options.nodes ?? DEFAULT_NODE_NAMES;

  await writeFile(caFile, caPem);
  await writeKubeConfigFile(kubeConfig, kubeconfigPath);
  await startControllers(running, binaries, layout, credentials, { server, caPem, caFile });
  await bootstrapApis(kubeConfig, deadline, running.processes);
  running.simulator = await startNodeSimulator({
    kubeConfig,
    nodeNames,
    kubeletVersion: await kubeletVersion(kubeConfig),
    deleteGraceCapSeconds: options.deleteGraceCapSeconds ?? 2,
    logger: running.logger.child({ component: 'node-simulator' }),
  });
  await waitForComponents(running, kubeConfig, layout, nodeNames, deadline);
  return { server, kubeconfigPath, kubeConfig };
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const logger = options.logger ?? pino({ name: 'local-cluster' });
  const binaries = await locateBinaries(options.binDir);
  const startedAt = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'aso-local-cluster-'));
  const forgetDataDir = onParentExit(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  const running: Running = {
    dataDir,
    processes: [],
    simulator: undefined,
    logger,
    stopping: false,
    stoppedOnPurpose: new Set(),
  };

  try {
    const booted = await boot(running, options, binaries, startedAt + STARTUP_TIMEOUT_MS);
    const seconds = (Date.now() - startedAt) / 1000;
    logger.info(
      { server: booted.server, kubeconfigPath: booted.kubeconfigPath, seconds },
      'local cluster ready',
    );
    reportCrashes(running);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= stopRunning(running).finally(forgetDataDir);
      return stopping;
    };
    return { ...booted, apiserver: controlApiserver(running), stop };
  } catch (error) {
    await stopRunning(running).finally(forgetDataDir);
    throw error;
  }
}
