import { get as httpGet } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { ManagedProcess } from './processes.ts';
import { describeExit } from './processes.ts';

export interface WaitOptions {
  what: string;
  deadline: number;
  intervalMs?: number;
  /** Components whose early exit should abort the wait with their last output. */
  watched?: readonly ManagedProcess[];
}

const REQUEST_TIMEOUT_MS = 3000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function failIfExited(watched: readonly ManagedProcess[]): Promise<void> {
  const process = watched.find((candidate) => candidate.hasExited());
  if (process !== undefined) {
    throw new Error(describeExit(process, await process.exited));
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Polls a condition until it holds, the deadline passes, or a watched component dies.
 * A check may throw; the last error is part of the timeout message.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  let lastError: unknown;

  for (;;) {
    await failIfExited(options.watched ?? []);
    const holds = await check().catch((error: unknown) => {
      lastError = error;
      return false;
    });
    if (holds) {
      return;
    }
    if (Date.now() > options.deadline) {
      const detail = lastError === undefined ? '' : ` (last error: ${errorText(lastError)})`;
      throw new Error(`timed out waiting for ${options.what}${detail}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

function settle(resolve: (ok: boolean) => void, response: IncomingMessage): void {
  response.resume();
  resolve(response.statusCode === 200);
}

/** GET over plain HTTP (etcd's /health): true on 200; rejects on connection errors. */
export function httpOk(url: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { timeout: REQUEST_TIMEOUT_MS }, (response) => {
      settle(resolve, response);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url}`)));
  });
}

/** GET over HTTPS, verifying the server against the CA bundle: true on 200. */
export function httpsOk(url: string, caPem: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { ca: caPem, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      settle(resolve, response);
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url}`)));
  });
}
