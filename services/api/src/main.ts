import {
  createKubeClients,
  createLogger,
  loadConfig,
  loadKubeConfig,
  stopOnSignals,
} from '@aso/shared';

import { apiConfigSchema, startApi } from './server.ts';

const config = loadConfig(apiConfigSchema);
const logger = createLogger('api', config.LOG_LEVEL);
const kube = createKubeClients(loadKubeConfig(config.ASO_KUBECONFIG));

const api = await startApi(config, kube, logger);
stopOnSignals(logger, () => api.close());
