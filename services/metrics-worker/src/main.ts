import { preparePolicyEvaluator, runWorkerMain } from '@aso/shared';

import { createMetricsStage } from './metrics-stage.ts';

// The metrics workers also evaluate the load policies: they already read metrics.k8s.io.
await runWorkerMain('metrics-worker', (kube) => createMetricsStage(kube), preparePolicyEvaluator);
