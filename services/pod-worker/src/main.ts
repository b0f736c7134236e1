import { runWorkerMain } from '@aso/shared';

import { loadPodStageSettings } from './config.ts';
import { createPodStage } from './pod-stage.ts';

await runWorkerMain('pod-worker', (kube, env) => createPodStage(kube, loadPodStageSettings(env)));
