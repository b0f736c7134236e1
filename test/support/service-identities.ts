import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { CoreV1Api, KubeConfig, loadAllYaml } from '@kubernetes/client-node';

import {
  startApiserverRecorder,
  type ApiserverRecorder,
  type Upstream,
} from './apiserver-recorder.ts';
import type { SystemService } from './system.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KUSTOMIZE_BASE = join(ROOT, 'k8s', 'base');
const run = promisify(execFile);

/** Where k8s/base puts the services' ServiceAccounts. */
export const SYSTEM_NAMESPACE = 'aso-system';

export const SERVICE_ACCOUNTS: Record<SystemService, string> = {
  api: 'aso-api',
  capture: 'aso-capture-worker',
  pod: 'aso-pod-worker',
  metrics: 'aso-metrics-worker',
};

/** One service's identity: its ServiceAccount's token, twice over. */
export interface ServiceIdentity {
  serviceAccount: string;
  /** Straight to the apiserver with the token: for probing what the account may do. */
  kubeConfig: KubeConfig;
  /** The same token through a recorder: the kubeconfig the service runs with. */
  recordedKubeconfigPath: string;
  recorder: ApiserverRecorder;
}

function kubectl(adminKubeconfig: string, args: string[]): Promise<{ stdout: string }> {
  const binDir = process.env['ASO_BIN_DIR'] ?? join(ROOT, '.local', 'bin');
  return run(join(binDir, 'kubectl'), ['--kubeconfig', adminKubeconfig, ...args]);
}

/** Applies k8s/base as an operator would, server-side. */
export async function applyBase(adminKubeconfig: string): Promise<void> {
  await kubectl(adminKubeconfig, ['apply', '--server-side', '-k', KUSTOMIZE_BASE]);
}

/** The documents a kustomization under k8s/ renders to, as `kubectl kustomize` prints them. */
export async function renderKustomization(
  adminKubeconfig: string,
  path: string,
): Promise<{ kind?: string; metadata?: { name?: string; namespace?: string } }[]> {
  const { stdout } = await kubectl(adminKubeconfig, ['kustomize', join(ROOT, 'k8s', path)]);
  return loadAllYaml(stdout) as {
    kind?: string;
    metadata?: { name?: string; namespace?: string };
  }[];
}

/** Starts removing what k8s/base created; does not wait for the namespace to go. */
export async function deleteBase(adminKubeconfig: string): Promise<void> {
  await kubectl(adminKubeconfig, [
    'delete',
    '--wait=false',
    '--ignore-not-found',
    '-k',
    KUSTOMIZE_BASE,
  ]);
}

/** The apiserver's address and CA, from the admin kubeconfig. */
export async function upstreamOf(admin: KubeConfig): Promise<Upstream> {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig names no current cluster');

  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, 'base64').toString('utf8')
    : await readFile(cluster.caFile ?? '', 'utf8');
  return { server: cluster.server, caPem };
}

/**
 * A short-lived token of the ServiceAccount from the TokenRequest API, as the kubelet
 * mounts one into a pod (no long-lived Secret is created).
 */
export async function requestToken(admin: KubeConfig, serviceAccount: string): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const answer = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: SYSTEM_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });

  const token = answer.status?.token;
  if (!token) throw new Error(`no token issued for ServiceAccount ${serviceAccount}`);
  return token;
}

/**
 * A kubeconfig that authenticates with `token`. Without a CA the server must be the
 * recorder's plain-HTTP loopback address: client-node accepts http:// only with
 * skipTLSVerify set, though that hop has no TLS to verify (the recorder's own hop to
 * the apiserver verifies the apiserver's CA).
 */
export function tokenKubeConfig(
  server: string,
  caPem: string | undefined,
  token: string,
): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      caPem
        ? { name: 'aso', server, caData: Buffer.from(caPem).toString('base64') }
        : { name: 'aso', server, skipTLSVerify: true },
    ],
    users: [{ name: 'aso', token }],
    contexts: [{ name: 'aso', cluster: 'aso', user: 'aso' }],
    currentContext: 'aso',
  });
  return kubeConfig;
}

/** A token, a direct kubeconfig and a recorded kubeconfig (written under `dir`) per service. */
export async function serviceIdentities(
  admin: KubeConfig,
  dir: string,
): Promise<Record<SystemService, ServiceIdentity>> {
  const upstream = await upstreamOf(admin);

  const entries = await Promise.all(
    Object.entries(SERVICE_ACCOUNTS).map(async ([service, serviceAccount]) => {
      const token = await requestToken(admin, serviceAccount);
      const recorder = await startApiserverRecorder(upstream);
      const recordedKubeconfigPath = join(dir, `${serviceAccount}.kubeconfig`);
      // exportConfig() writes JSON, which is YAML too, with the kubeconfig field names.
      const recorded = tokenKubeConfig(recorder.url, undefined, token);
      await writeFile(recordedKubeconfigPath, recorded.exportConfig(), { mode: 0o600 });

      const identity: ServiceIdentity = {
        serviceAccount,
        kubeConfig: tokenKubeConfig(upstream.server, upstream.caPem, token),
        recordedKubeconfigPath,
        recorder,
      };
      return [service, identity] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<SystemService, ServiceIdentity>;
}
