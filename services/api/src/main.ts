import {
  createKubeClients,
  createLogger,
  loadConfig,
  loadKubeConfig,
  startOrExit,
  stopOnSignals,
} from '@aso/shared';

import { apiConfigSchema, startApi } from './server.ts';

/**
 * Bound on a stop: the requests in flight are answered first (see closeHttpServer),
 * but one that hangs must not keep the process from exiting.
 */
const STOP_LIMIT_MS = 20_000;

await startOrExit('api', async () => {
  const config = loadConfig(apiConfigSchema);
  const logger = createLogger('api', config.LOG_LEVEL);
  const kube = createKubeClients(loadKubeConfig(config.ASO_KUBECONFIG));

  const api = await startApi(config, kube, logger);
  stopOnSignals(logger, () => api.close(), STOP_LIMIT_MS);
});
