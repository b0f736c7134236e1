export { createMetricsStage } from './metrics-stage.ts';
export { computeSavings } from './savings.ts';
