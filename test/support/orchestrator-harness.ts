import { randomUUID } from 'node:crypto';

import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { expect } from 'vitest';

import { isFinished, type MigrationRecord } from '@aso/shared';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';
import { expectDescribedResponse } from './api-contract.ts';
import { testRedis, type TestRedis } from './redis.ts';
import { startSystem, type RunningSystem, type SystemOptions } from './system.ts';

export interface Problem {
  status: number;
  code: string;
  detail: string;
  migration_id?: string;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/**
 * The whole system for one end-to-end test file: the API and the three workers
 * under a Redis prefix of their own, a namespace of its own in the local cluster,
 * and the steps the tests share (submit, wait for the end, create pods).
 */
export class OrchestratorHarness {
  readonly core: CoreV1Api;
  readonly customObjects: CustomObjectsApi;
  readonly namespace: TestNamespace;
  readonly system: RunningSystem;
  private readonly redis: TestRedis;

  private constructor(parts: {
    core: CoreV1Api;
    customObjects: CustomObjectsApi;
    namespace: TestNamespace;
    system: RunningSystem;
    redis: TestRedis;
  }) {
    this.core = parts.core;
    this.customObjects = parts.customObjects;
    this.namespace = parts.namespace;
    this.system = parts.system;
    this.redis = parts.redis;
  }

  static async start(
    namespacePrefix: string,
    kubeconfigPath: string,
    options: Pick<
      SystemOptions,
      'checkpointStorageClass' | 'serviceKubeconfigs' | 'policyIntervalSeconds'
    > = {},
    /** Let the API migrate in the harness's namespace only (ASO_ALLOWED_NAMESPACES). */
    access: { onlyOwnNamespace?: boolean } = {},
  ): Promise<OrchestratorHarness> {
    const kubeConfig = loadTestKubeConfig();
    const redis = testRedis();
    const namespace = await createTestNamespace(kubeConfig, namespacePrefix);
    const system = await startSystem({
      kubeconfigPath,
      prefix: redis.prefix,
      ...options,
      ...(access.onlyOwnNamespace ? { allowedNamespaces: [namespace.name] } : {}),
    });

    return new OrchestratorHarness({
      core: kubeConfig.makeApiClient(CoreV1Api),
      customObjects: kubeConfig.makeApiClient(CustomObjectsApi),
      namespace,
      system,
      redis,
    });
  }

  async stop(): Promise<void> {
    await this.system.stop();
    await this.namespace.delete();
    await this.redis.cleanup();
  }

  async api(path: string, init: { method?: string; body?: string } = {}): Promise<ApiAnswer> {
    const response = await fetch(`${this.system.apiUrl}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.system.apiToken}`,
      },
    });
    const answer = {
      status: response.status,
      body: await response.json(),
      headers: response.headers,
    };

    // Every answer of the end-to-end suites must be what the OpenAPI description says.
    const contentType = response.headers.get('content-type');
    const method = init.method ?? 'GET';
    expectDescribedResponse({
      method,
      path,
      status: answer.status,
      contentType,
      body: answer.body,
    });
    return answer;
  }

  /** POSTs a migration in the harness's namespace. */
  post(body: Record<string, unknown>): Promise<ApiAnswer> {
    return this.api('/api/v1/migrations', {
      method: 'POST',
      body: JSON.stringify({ pod_namespace: this.namespace.name, ...body }),
    });
  }

  async submit(body: Record<string, unknown>): Promise<MigrationRecord> {
    const response = await this.post(body);
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return response.body as MigrationRecord;
  }

  /** Posts a migration the pre-flight must refuse; nothing may be queued for it. */
  async refused(body: Record<string, unknown>): Promise<Problem> {
    const response = await this.post(body);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    return response.body as Problem;
  }

  /** Waits until the migration reaches an end, through the public API. */
  finished(id: string, timeoutMs = 90_000): Promise<MigrationRecord> {
    return eventually(
      async () => {
        const { body } = await this.api(`/api/v1/migrations/${id}`);
        const record = body as MigrationRecord;
        return isFinished(record) ? record : undefined;
      },
      { timeoutMs, what: `migration ${id} to finish` },
    );
  }

  createPod(manifest: V1Pod): Promise<V1Pod> {
    const body = structuredClone(manifest);
    body.metadata = Object.assign({}, body.metadata, { namespace: this.namespace.name });
    return this.core.createNamespacedPod({ namespace: this.namespace.name, body });
  }

  /** A pod placed on `node` by the scheduler; resolves once `ready` holds for it. */
  async podOn(
    node: string,
    manifest: {
      prefix: string;
      spec?: Partial<NonNullable<V1Pod['spec']>>;
      annotations?: Record<string, string>;
      labels?: Record<string, string>;
    },
    ready: (pod: V1Pod) => boolean = (pod) => Boolean(pod.spec?.nodeName),
  ): Promise<V1Pod> {
    const name = `${manifest.prefix}-${randomUUID().slice(0, 6)}`;
    await this.createPod({
      metadata: { name, annotations: manifest.annotations ?? {}, labels: manifest.labels ?? {} },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        containers: [{ name: 'app', image: 'nginx:1.27' }],
        ...manifest.spec,
      },
    });
    return eventually(
      async () => {
        const pod = await this.readPodOrNull(name);
        return pod && ready(pod) ? pod : undefined;
      },
      { timeoutMs: 30_000, what: `pod ${name} to be placed` },
    );
  }

  async readPodOrNull(name: string): Promise<V1Pod | null> {
    try {
      return await this.core.readNamespacedPod({ name, namespace: this.namespace.name });
    } catch {
      return null;
    }
  }

  async podMetricsExist(name: string): Promise<boolean> {
    try {
      await this.customObjects.getNamespacedCustomObject({
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        namespace: this.namespace.name,
        plural: 'pods',
        name,
      });
      return true;
    } catch {
      return false;
    }
  }
}

export function isRunning(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running';
}

/** Ready is what Services and PodDisruptionBudgets count, beyond Running. */
export function isReady(pod: V1Pod | null | undefined): boolean {
  return Boolean(pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}
