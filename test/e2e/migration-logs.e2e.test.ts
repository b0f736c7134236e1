import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import {
  createTestNamespace,
  eventually,
  loadTestKubeConfig,
  type TestNamespace,
} from '../setup/kube.ts';
import { FaultSystem } from '../support/fault-system.ts';
import { readyWorkload } from '../support/fault-workload.ts';
import { newToken } from '../support/in-process-api.ts';
import { testRedis, type TestRedis } from '../support/redis.ts';
import type { LogLine, ServiceProcess } from '../support/service-processes.ts';

/**
 * The services run as deployed, logging JSON; after one migration every line that
 * names it, from the gateway and from each stage, carries the id, the stage, the
 * namespace and the pod, so one query over the logs tells its whole story.
 */

const token = newToken();

let kubeConfig: KubeConfig;
let namespace: TestNamespace;
let redis: TestRedis;
let system: FaultSystem;
let api: ServiceProcess;
let apiUrl: string;

beforeAll(async () => {
  kubeConfig = loadTestKubeConfig();
  namespace = await createTestNamespace(kubeConfig, 'logs');
  redis = testRedis();
  system = await FaultSystem.start({
    redisUrl: redis.url,
    prefix: redis.prefix,
    kubeconfigPath: inject('kubeconfigPath'),
    replicas: { 'capture-worker': 1, 'pod-worker': 1, 'metrics-worker': 1 },
  });
  api = await system.add('api', {
    ASO_API_TOKENS: `read-write:${token}`,
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const listening = await api.waitForLog((line) => line.msg === 'api listening', 5_000);
  apiUrl = String(listening['url']);
}, 120_000);

afterAll(async () => {
  await system.stop();
  await namespace.delete();
  await redis.cleanup();
});

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${apiUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

function linesAbout(migrationId: string): { service: string; line: LogLine }[] {
  const services = ['api', 'capture-worker', 'pod-worker', 'metrics-worker'] as const;
  return services.flatMap((service) =>
    system
      .replicas(service)
      .flatMap((replica) => replica.logged((line) => line.migrationId === migrationId))
      .map((line) => ({ service, line })),
  );
}

describe('migration log lines', () => {
  it('carry migrationId, stage, namespace and pod in every service', async () => {
    const pod = await readyWorkload(kubeConfig, namespace.name, 'logged');
    const name = pod.metadata?.name ?? '';

    const submitted = await request('/api/v1/migrations', {
      method: 'POST',
      body: JSON.stringify({
        pod_name: name,
        pod_namespace: namespace.name,
        source_node: 'worker-1',
        target_node: 'worker-2',
      }),
    });
    expect(submitted.status).toBe(202);
    const id = ((await submitted.json()) as MigrationRecord).migration_id;

    const record = await eventually(
      async () => {
        const current = (await (
          await request(`/api/v1/migrations/${id}`)
        ).json()) as MigrationRecord;
        return current.status === 'completed' || current.status === 'failed' ? current : undefined;
      },
      { what: `migration ${id} to finish`, timeoutMs: 90_000 },
    );
    expect(record.status).toBe('completed');
    // The metrics stage logs its end after it stored the record; wait for that line.
    await system.firstToLog(
      'metrics-worker',
      (line) => line.migrationId === id && line.msg === 'stage finished',
    );

    const lines = linesAbout(id);
    for (const { service, line } of lines) {
      const where = `${service}: ${JSON.stringify(line)}`;
      expect(line, where).toMatchObject({ migrationId: id, namespace: namespace.name, pod: name });
      expect(line, where).toHaveProperty('stage');
    }

    const messages = (service: string) =>
      lines.filter((entry) => entry.service === service).map((entry) => entry.line.msg);
    expect(messages('api')).toEqual(expect.arrayContaining(['migration accepted', 'request']));
    for (const [service, stage] of [
      ['capture-worker', 'capture'],
      ['pod-worker', 'pod'],
      ['metrics-worker', 'metrics'],
    ] as const) {
      expect(messages(service)).toEqual(
        expect.arrayContaining(['stage started', 'stage finished']),
      );
      const stages = lines.filter((entry) => entry.service === service).map((e) => e.line.stage);
      expect(new Set(stages)).toEqual(new Set([stage]));
    }
  }, 150_000);
});
