/** Drives the load generator thread (load-worker.ts) from the measuring side. */
import { Worker } from 'node:worker_threads';

import type { LoadCommand, LoadResult } from './load-worker.ts';

export type { LoadResult, TargetSpec } from './load-worker.ts';

export interface LoadGenerator {
  /** Runs one command; commands run one after another. */
  run(command: LoadCommand): Promise<LoadResult>;
  close(): Promise<void>;
}

export function startLoadGenerator(): LoadGenerator {
  const worker = new Worker(new URL('./load-worker.ts', import.meta.url));
  let current:
    { resolve: (result: LoadResult) => void; reject: (error: Error) => void } | undefined;
  let turn: Promise<unknown> = Promise.resolve();

  worker.on('message', (result: LoadResult) => {
    current?.resolve(result);
  });
  worker.on('error', (error: Error) => {
    current?.reject(error);
  });

  const run = (command: LoadCommand) => {
    const answer = turn.then(
      () =>
        new Promise<LoadResult>((resolve, reject) => {
          current = { resolve, reject };
          worker.postMessage(command);
        }),
    );
    turn = answer.catch(() => undefined);
    return answer;
  };
  const close = async () => {
    await worker.terminate();
  };
  return { run, close };
}
