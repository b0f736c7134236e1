import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { instrumentKubeConfig, kubeRequestMetrics } from './kube-request-metrics.ts';

let server: Server;
let core: CoreV1Api;
let registry: Registry;

/** A stand-in apiserver: one pod exists, a second is missing, a third breaks the connection. */
beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url?.endsWith('/pods/broken')) {
      request.socket.destroy();
      return;
    }
    const found = request.url?.endsWith('/pods/web-0') === true;
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        found
          ? { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'ml' } }
          : { kind: 'Status', code: 404, message: 'not found' },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'not-a-secret' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'tester' }],
    currentContext: 'local',
  });
  registry = new Registry();
  // Clients made before instrumenting are measured too.
  core = kubeConfig.makeApiClient(CoreV1Api);
  instrumentKubeConfig(kubeConfig, kubeRequestMetrics(registry));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function requests(): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('aso_kubernetes_requests_total')?.get();
  return Object.fromEntries(
    (metric?.values ?? []).map((v) => [
      `${String(v.labels['verb'])} ${String(v.labels['resource'])} ${String(v.labels['code'])}`,
      v.value,
    ]),
  );
}

describe('instrumentKubeConfig', () => {
  it('counts every answer by verb, resource and code, and a request never answered as error', async () => {
    await core.readNamespacedPod({ name: 'web-0', namespace: 'ml' });
    await core.readNamespacedPod({ name: 'web-0', namespace: 'ml' });
    await expect(core.readNamespacedPod({ name: 'gone', namespace: 'ml' })).rejects.toThrow();
    await expect(core.readNamespacedPod({ name: 'broken', namespace: 'ml' })).rejects.toThrow();

    expect(await requests()).toEqual({
      'get pods 200': 2,
      'get pods 404': 1,
      'get pods error': 1,
    });
    const latency = await registry.getSingleMetricAsString(
      'aso_kubernetes_request_duration_seconds',
    );
    expect(latency).toMatch(
      /^aso_kubernetes_request_duration_seconds_count\{verb="get",resource="pods"\} 4$/m,
    );
  });
});
