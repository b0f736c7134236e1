import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { freePort, startRedisServer, type LocalRedisServer } from './redis-server.ts';

/** How long the sentinel may take to listen and know its master. */
const SENTINEL_READY_TIMEOUT_MS = 20_000;

export interface LocalRedisSentinel {
  /** The sentinel's address as REDIS_SENTINELS expects it: "host:port". */
  sentinels: string;
  /** The master group name the sentinel monitors. */
  masterName: string;
  master: LocalRedisServer;
  stop(): Promise<void>;
}

/**
 * One master and one sentinel monitoring it (quorum 1), both on free loopback
 * ports, so a service can find its Redis through Sentinel as in production.
 */
export async function startRedisSentinel(masterArgs: string[] = []): Promise<LocalRedisSentinel> {
  const masterName = 'aso-test-master';
  const master = await startRedisServer({ args: masterArgs });
  const dir = await mkdtemp(join(tmpdir(), 'aso-sentinel-'));
  const port = await freePort();

  // Sentinel rewrites its configuration file, so it gets one of its own.
  const config = join(dir, 'sentinel.conf');
  await writeFile(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${masterName} ${master.host} ${master.port} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });

  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    await master.stop();
  };
  try {
    await waitForMaster(port, masterName);
  } catch (error) {
    await stop();
    throw error;
  }
  return { sentinels: `127.0.0.1:${port}`, masterName, master, stop };
}

async function waitForMaster(port: number, masterName: string): Promise<void> {
  const deadline = Date.now() + SENTINEL_READY_TIMEOUT_MS;
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    for (;;) {
      const address = await client
        .call('SENTINEL', 'get-master-addr-by-name', masterName)
        .catch(() => null);
      if (Array.isArray(address)) return;
      if (Date.now() > deadline) throw new Error(`sentinel on port ${port} never knew its master`);
      // A starting sentinel has no event to wait on; it listens within milliseconds.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}
