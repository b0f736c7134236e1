import { runWorkerMain } from '@aso/shared';

import { createCaptureStage } from './capture-stage.ts';
import { loadCaptureStageSettings } from './config.ts';

await runWorkerMain('capture-worker', (kube, env) =>
  createCaptureStage(kube, loadCaptureStageSettings(env)),
);
