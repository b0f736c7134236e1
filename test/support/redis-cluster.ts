import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { freePort, startRedisServer, type LocalRedisServer } from './redis-server.ts';

const run = promisify(execFile);

/** How long the masters may take to agree that every slot is served. */
const CLUSTER_OK_TIMEOUT_MS = 20_000;

export interface LocalRedisCluster {
  /** The masters' addresses as REDIS_CLUSTER_NODES expects them: "host:port,host:port,...". */
  nodes: string;
  servers: LocalRedisServer[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of three masters (no replicas) on free loopback ports, each with
 * its own directory under one temporary folder that stop() removes.
 */
export async function startRedisCluster(extraArgs: string[] = []): Promise<LocalRedisCluster> {
  const root = await mkdtemp(join(tmpdir(), 'aso-redis-cluster-'));
  const servers: LocalRedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  };

  try {
    for (const index of [0, 1, 2]) servers.push(await startClusterNode(root, index, extraArgs));
    const addresses = servers.map((server) => `${server.host}:${server.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes']);
    await waitForClusterOk(servers);
    return { nodes: addresses.join(','), servers, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function startClusterNode(
  root: string,
  index: number,
  extraArgs: string[],
): Promise<LocalRedisServer> {
  const dir = join(root, `node-${index}`);
  await mkdir(dir);
  // The bus port is chosen too: the default (port + 10000) may be taken or out of range.
  const busPort = await freePort();
  return startRedisServer({
    dir,
    args: [
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
      ...['--cluster-port', String(busPort), '--cluster-node-timeout', '5000'],
      ...extraArgs,
    ],
  });
}

async function waitForClusterOk(servers: LocalRedisServer[]): Promise<void> {
  const deadline = Date.now() + CLUSTER_OK_TIMEOUT_MS;
  for (const server of servers) {
    const client = new Redis(server.port, server.host, { maxRetriesPerRequest: 1 });
    try {
      while (!(await client.cluster('INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`cluster not ok on port ${server.port}`);
        // Gossip settles in well under a second; there is no event to wait on.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}
