export { createCaptureStage } from './capture-stage.ts';
