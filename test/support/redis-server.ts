import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

/** How long a new redis-server may take to answer PING. */
const START_TIMEOUT_MS = 20_000;

export interface LocalRedisServer {
  host: string;
  port: number;
  url: string;
  /** Its working directory (data files, nodes.conf). */
  dir: string;
  /** Stops the server; removes its directory when the server created it. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Working directory; a temporary one (removed on stop) when absent. */
  dir?: string;
  /** Extra redis-server arguments. */
  args?: string[];
}

/** A redis-server of the test's own on a free loopback port; the Redis on 6379 is never touched. */
export async function startRedisServer(
  options: RedisServerOptions = {},
): Promise<LocalRedisServer> {
  const host = '127.0.0.1';
  const port = await freePort();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'aso-redis-')));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', host, '--dir', dir, '--save', '', ...(options.args ?? [])],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });

  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    if (ownDir) await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(host, port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, port, url: `redis://${host}:${port}`, dir, stop };
}

async function waitForPing(host: string, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      await pingOnce(`redis://${host}:${String(port)}`);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    // A starting server has no event to wait on; it listens within milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One PING on a connection of its own that never retries; throws when none answers. */
export async function pingOnce(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A refused probe is expected while a server starts; the caller decides what follows.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/** A TCP port nothing listens on right now, on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => {
        resolve(port);
      });
    });
  });
}
