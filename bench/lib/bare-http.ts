/**
 * The least any HTTP route can cost in one Node process: node:http with no framework
 * and no middleware, reading the body and answering 204. Item 3 measures it beside
 * the gateway's routes as the ceiling of their rate under the same load generator.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { closeHttpServer } from '@aso/shared';

export interface BareHttpServer {
  url: string;
  close(): Promise<void>;
}

export async function startBareHttpServer(): Promise<BareHttpServer> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => closeHttpServer(server),
  };
}
