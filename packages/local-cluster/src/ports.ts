import { createServer } from 'node:net';

const LOOPBACK = '127.0.0.1';

/** Asks the kernel for a free loopback port by listening on port 0, then releases it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * Several distinct ports at once. Each is released before the caller binds it, so
 * distinctness is checked here rather than trusted to the kernel's allocation order.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    ports.add(await freePort());
  }

  return [...ports];
}
