import { runWorkerMain } from '@aso/shared';

import { createCaptureStage } from './capture-stage.ts';

await runWorkerMain('capture-worker', (kube) => createCaptureStage(kube));
