import { runWorkerMain } from '@aso/shared';

import { createMetricsStage } from './metrics-stage.ts';

await runWorkerMain('metrics-worker', (kube) => createMetricsStage(kube));
