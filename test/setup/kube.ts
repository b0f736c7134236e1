import { randomBytes } from 'node:crypto';
import { ApiException, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { inject } from 'vitest';
import './provided-context.ts';

/** Helpers for e2e tests against the run's local cluster. Nothing here sleeps a fixed time. */
export interface WaitOptions {
  /** Described in the timeout error, e.g. "pod web-1 Ready". */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export interface TestNamespace {
  name: string;
  /** Starts deleting the namespace (and everything in it); does not wait for it to go. */
  delete(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const REREAD_MS = 3_000;

/** The admin KubeConfig of the cluster the global setup started. */
export function loadTestKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject('kubeconfigPath'));
  return kubeConfig;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

/**
 * Polls `probe` until it returns a value other than undefined/null/false, and returns
 * it; fails after the deadline with the last error the probe threw, if any.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let lastError: unknown;

  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out waiting for ${options.what}${detail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

/** A namespace of the test file's own, usable once its `default` ServiceAccount exists. */
export async function createTestNamespace(
  kubeConfig: KubeConfig,
  prefix: string,
): Promise<TestNamespace> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;

  await core.createNamespace({ body: { metadata: { name, labels: { 'aso.dev/test': 'true' } } } });
  await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }), {
    what: `ServiceAccount default in namespace ${name}`,
  });
  return {
    name,
    delete: async () => {
      await core.deleteNamespace({ name }).catch((error: unknown) => {
        if (!isNotFound(error)) {
          throw error;
        }
      });
    },
  };
}

/**
 * Reads a pod whenever a watch on it reports a change, until `predicate` holds for it
 * (undefined means the pod does not exist, so deletion can be awaited too). The watch
 * is only a trigger: the predicate always sees a freshly read object.
 */
export async function waitForPod(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  predicate: (pod: V1Pod | undefined) => boolean,
  options: WaitOptions,
): Promise<V1Pod | undefined> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const watch = new Watch(kubeConfig);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const read = () =>
    core.readNamespacedPod({ name, namespace }).catch((error: unknown) => {
      if (isNotFound(error)) {
        return undefined;
      }
      throw error;
    });

  for (;;) {
    const pod = await read();
    if (predicate(pod)) {
      return pod;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what}; last seen: ${JSON.stringify(pod?.status ?? null)}`,
      );
    }
    await nextChange(watch, namespace, name, pod?.metadata?.resourceVersion, deadline);
  }
}

/**
 * Resolves on the next event for the pod, when the watch ends, or after a few seconds at
 * most, so an event missed between the read and the watch only delays the next read.
 */
async function nextChange(
  watch: Watch,
  namespace: string,
  name: string,
  resourceVersion: string | undefined,
  deadline: number,
): Promise<void> {
  let settled = false;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;

  await new Promise<void>((resolve) => {
    const settle = (): void => {
      settled = true;
      resolve();
    };
    const query = { fieldSelector: `metadata.name=${name}`, resourceVersion };

    timer = setTimeout(settle, Math.min(Math.max(0, deadline - Date.now()) + 10, REREAD_MS));
    watch
      .watch(`/api/v1/namespaces/${namespace}/pods`, query, settle, settle)
      .then((started) => {
        controller = started;
        if (settled) {
          started.abort();
        }
      })
      .catch(settle);
  });

  clearTimeout(timer);
  controller?.abort();
}
