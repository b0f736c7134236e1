import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { startLocalCluster } from '@aso/local-cluster';
import './provided-context.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * One local control plane for the whole e2e run: started before the first test file,
 * stopped after the last. Component logs stay quiet unless ASO_CLUSTER_LOG_LEVEL asks.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = pino({
    name: 'e2e-cluster',
    level: process.env['ASO_CLUSTER_LOG_LEVEL'] ?? 'warn',
  });
  const binDir = process.env['ASO_BIN_DIR'] ?? join(ROOT, '.local', 'bin');
  const startedAt = Date.now();
  const cluster = await startLocalCluster({ binDir, logger });

  logger.info(
    { seconds: (Date.now() - startedAt) / 1000, server: cluster.server },
    'e2e cluster ready',
  );
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('server', cluster.server);
  return () => cluster.stop();
}
