/**
 * One local control plane for the whole benchmark run, started when a measure first
 * asks for it (measures that need only Redis run without it) and stopped at the end.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';

import { pino } from 'pino';

import { startLocalCluster, type LocalCluster } from '@aso/local-cluster';

export interface SharedCluster {
  get: () => Promise<LocalCluster>;
  stop: () => Promise<void>;
}

export function sharedCluster(root: string, log: (message: string) => void): SharedCluster {
  let starting: Promise<LocalCluster> | undefined;
  const binDir = process.env['ASO_BIN_DIR'] ?? join(root, '.local', 'bin');

  const get = () => {
    starting ??= (async () => {
      await access(join(binDir, 'kube-apiserver')).catch(() => {
        throw new Error(
          `the local control plane is not built (${binDir}): run npm run controlplane:build`,
        );
      });
      log('starting the local control plane');
      const logger = pino({
        name: 'bench-cluster',
        level: process.env['ASO_CLUSTER_LOG_LEVEL'] ?? 'warn',
      });
      return startLocalCluster({ binDir, logger });
    })();
    return starting;
  };

  const stop = async () => {
    if (starting === undefined) return;
    const cluster = await starting.catch(() => undefined);
    await cluster?.stop();
  };
  return { get, stop };
}
