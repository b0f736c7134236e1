export { createPodStage, type PodStageSettings } from './pod-stage.ts';
export { buildNewPod, type NewPodPlan } from './pod-builder.ts';
export { checkpointClaimName, newPodName } from './pod-names.ts';
export { loadPodStageSettings } from './config.ts';
