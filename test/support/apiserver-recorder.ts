import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

/** One request a client made to the apiserver, and the status it got. */
export interface RecordedCall {
  method: string;
  path: string;
  status: number;
}

export interface ApiserverRecorder {
  /** http://127.0.0.1:<port>: point a kubeconfig's server here. */
  url: string;
  calls: RecordedCall[];
  close(): Promise<void>;
}

export interface Upstream {
  /** https://host:port of the apiserver. */
  server: string;
  /** PEM bundle that verifies its serving certificate. */
  caPem: string;
}

/**
 * A loopback pass-through in front of the apiserver that notes every request and the
 * status it got. The services swallow some refusals on purpose (an event that cannot
 * be written is only logged; a watch that fails falls back to reading again), so a
 * missing RBAC rule would not fail a migration: the recorder still sees the 403.
 * It adds no credentials: each client's own bearer token goes through unchanged.
 */
export async function startApiserverRecorder(upstream: Upstream): Promise<ApiserverRecorder> {
  const calls: RecordedCall[] = [];
  const target = new URL(upstream.server);

  const server = createServer(function forward(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
  ) {
    const call: RecordedCall = {
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      status: 0,
    };
    calls.push(call);

    const proxied = httpsRequest(
      {
        hostname: target.hostname,
        port: target.port,
        method: call.method,
        path: call.path,
        headers: { ...incoming.headers, host: target.host },
        ca: upstream.caPem,
      },
      (answer) => {
        call.status = answer.statusCode ?? 0;
        outgoing.writeHead(call.status, answer.headers);
        answer.pipe(outgoing);
      },
    );
    proxied.on('error', () => {
      outgoing.destroy();
    });
    // A client that stops a watch closes its connection: end the upstream one too.
    outgoing.on('close', () => {
      proxied.destroy();
    });
    incoming.pipe(proxied);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
