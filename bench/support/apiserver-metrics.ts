import { request } from 'node:https';

import type { KubeConfig } from '@kubernetes/client-node';

import { sumBy } from './prom-text.ts';

/** Verbs whose duration is a stream's lifetime, not a request's latency. */
const STREAMING_VERBS = new Set(['WATCH', 'CONNECT']);

/** Running sum and count of kube-apiserver's own request latency (streams left out). */
export interface ApiserverLatencyTotals {
  sum: number;
  count: number;
}

/**
 * Reads kube-apiserver's /metrics with the admin credentials of the kubeconfig and
 * totals apiserver_request_duration_seconds: the time the server itself took, without
 * the clients' queues, so that it tells a slow apiserver from busy clients.
 */
export async function apiserverLatencyTotals(
  kubeConfig: KubeConfig,
): Promise<ApiserverLatencyTotals> {
  const text = await fetchMetrics(kubeConfig);
  const keep = (labels: Record<string, string>) => !STREAMING_VERBS.has(labels['verb'] ?? '');
  const sum = sumBy([text], 'apiserver_request_duration_seconds_sum', [], keep).get('') ?? 0;
  const count = sumBy([text], 'apiserver_request_duration_seconds_count', [], keep).get('') ?? 0;
  return { sum, count };
}

/** Mean latency in ms between two readings; NaN when no request was served in between. */
export function meanLatencyMs(
  before: ApiserverLatencyTotals,
  after: ApiserverLatencyTotals,
): number {
  const count = after.count - before.count;
  return count > 0 ? ((after.sum - before.sum) / count) * 1000 : Number.NaN;
}

function fetchMetrics(kubeConfig: KubeConfig): Promise<string> {
  const cluster = kubeConfig.getCurrentCluster();
  const token = kubeConfig.getCurrentUser()?.token;
  if (!cluster?.caData || !token) {
    return Promise.reject(new Error('the kubeconfig has no CA data or token for /metrics'));
  }
  const url = new URL('/metrics', cluster.server);

  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        ca: Buffer.from(cluster.caData ?? '', 'base64').toString('utf8'),
        headers: { authorization: `Bearer ${token}` },
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          if (answer.statusCode === 200) resolve(Buffer.concat(chunks).toString('utf8'));
          else reject(new Error(`kube-apiserver /metrics answered ${answer.statusCode}`));
        });
        answer.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}
