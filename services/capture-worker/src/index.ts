export { createCaptureStage } from './capture-stage.ts';
export { loadCaptureStageSettings, type CaptureStageSettings } from './config.ts';
