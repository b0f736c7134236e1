export { main, type Runtime } from './main.ts';
export { EXIT } from './cli-error.ts';
