import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

export interface OpsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The small HTTP server each worker runs beside its queue consumer: Prometheus
 * metrics at /metrics, liveness at /health and readiness at /ready.
 */
export async function startOpsServer(
  registry: Registry,
  isReady: () => Promise<boolean>,
  host: string,
  port: number,
): Promise<OpsServer> {
  const server = createServer((request, response) => {
    void answer(request.url ?? '/', registry, isReady).then(({ status, type, body }) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    });
  });

  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => closeHttpServer(server),
  };
}

/** How often a closing server closes the keep-alive connections that have turned idle. */
const IDLE_SWEEP_MS = 100;

export interface ClosableServer {
  close(callback: () => void): unknown;
  /** node:http servers have it; HTTP/2 sessions end with close() alone. */
  closeIdleConnections?: () => void;
}

/**
 * Stops accepting connections and resolves once the requests in flight are answered.
 * A keep-alive connection turns idle after its last answer; it is closed then, not
 * after the keep-alive timeout, so a drain lasts as long as its slowest request.
 */
export function closeHttpServer(server: ClosableServer): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => {
      server.closeIdleConnections?.();
    }, IDLE_SWEEP_MS);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
  });
}

interface Answer {
  status: number;
  type: string;
  body: string;
}

async function answer(
  url: string,
  registry: Registry,
  isReady: () => Promise<boolean>,
): Promise<Answer> {
  const json = 'application/json';
  const path = url.split('?')[0];

  if (path === '/metrics') {
    return { status: 200, type: registry.contentType, body: await registry.metrics() };
  }
  if (path === '/health') return { status: 200, type: json, body: '{"status":"ok"}' };
  if (path === '/ready') {
    const ready = await isReady().catch(() => false);
    return ready
      ? { status: 200, type: json, body: '{"status":"ready"}' }
      : { status: 503, type: json, body: '{"status":"not ready"}' };
  }
  return { status: 404, type: json, body: '{"status":"not found"}' };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
