import { afterEach, beforeEach } from 'vitest';

import {
  inProcessApi,
  newToken,
  sendJson,
  type InProcessApi,
  type JsonAnswer,
} from './in-process-api.ts';

/**
 * For a test file: an in-process API with one read-write token, new for each test,
 * and a sender of JSON requests carrying that token.
 */
export function apiPerTest(): {
  api: () => InProcessApi;
  send: (method: string, path: string, body?: unknown) => Promise<JsonAnswer>;
} {
  const writer = newToken();
  let current: InProcessApi | undefined;

  beforeEach(() => {
    current = inProcessApi({ tokens: `read-write:${writer}` });
  });
  afterEach(async () => {
    await current?.close();
  });

  const api = (): InProcessApi => {
    if (current === undefined) throw new Error('the in-process API exists only inside a test');
    return current;
  };
  return { api, send: (method, path, body) => sendJson(api(), writer, method, path, body) };
}
