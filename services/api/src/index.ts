export { createApp } from './app.ts';
export type { ApiDeps } from './deps.ts';
export { apiConfigSchema, startApi, type ApiConfig, type RunningApi } from './server.ts';
