import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { parseAllDocuments, stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** One rendered Kubernetes object, loosely typed: the tests check the fields they read. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

/** Kinds the apiserver keeps outside namespaces, among those k8s/ renders. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

export function isClusterScoped(manifest: Manifest): boolean {
  return CLUSTER_SCOPED.has(manifest.kind);
}

/** The repository's kubectl, or ASO_BIN_DIR's, run with the given kubeconfig. */
export async function kubectl(kubeconfig: string, args: string[]): Promise<string> {
  const binDir = process.env['ASO_BIN_DIR'] ?? join(ROOT, '.local', 'bin');
  const { stdout } = await run(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Parses a multi-document YAML stream, skipping empty documents. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** What `kubectl kustomize` prints for a directory, parsed. */
export async function renderKustomization(kubeconfig: string, dir: string): Promise<Manifest[]> {
  return parseManifests(await kubectl(kubeconfig, ['kustomize', dir]));
}

/** The path of a directory under k8s/. */
export function k8sPath(path: string): string {
  return join(ROOT, 'k8s', path);
}

/**
 * A throw-away overlay of k8s/base that moves every namespaced object into
 * `namespace`, so that a test's copy never meets the one another test applies.
 * Kustomize only accepts relative paths to the base, hence the relative() below.
 */
export async function namespaceOverlay(
  namespace: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'aso-overlay-'));
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace,
    resources: [relative(dir, k8sPath('base'))],
  };

  await writeFile(join(dir, 'kustomization.yaml'), stringify(kustomization));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes manifests as one YAML stream, for `kubectl apply -f`. */
export async function writeManifests(path: string, manifests: Manifest[]): Promise<void> {
  await writeFile(path, manifests.map((manifest) => stringify(manifest)).join('---\n'));
}
