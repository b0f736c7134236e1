export { createCaptureStage } from './capture-stage.ts';
export { captureContainerStates } from './container-states.ts';
