/**
 * The HTTP load generator, run in a worker thread so that sending requests does not
 * share the event loop of the API it measures, over the lean keep-alive client of
 * lean-http.ts (node:http's client would take as much CPU as the server it loads).
 * Closed loop: N clients each send the next request when the last one answers. Open
 * loop: requests come due on a fixed schedule whatever the answers, over a fixed
 * number of keep-alive connections, and each latency counts from the request's
 * scheduled time, so a stall of the server delays the samples after it too, waiting
 * for a connection included (no coordinated omission).
 */
import { parentPort } from 'node:worker_threads';

import { ConnectionPool } from './lean-http.ts';

export type LoadCommand =
  | { kind: 'closed'; target: TargetSpec; concurrency: number; durationMs: number }
  | {
      kind: 'open';
      target: TargetSpec;
      ratePerSecond: number;
      durationMs: number;
      /** Keep-alive connections the requests share; one due while all are busy waits. */
      connections: number;
    };

/** A target as it crosses the thread boundary: the body is built from a template. */
export interface TargetSpec {
  url: string;
  token: string;
  /** JSON body with "{n}" where the request's index goes. */
  bodyTemplate: string;
}

export interface LoadResult {
  /** Latency of each answered request, ms. */
  latenciesMs: number[];
  completed: number;
  errors: number;
  /** The first error's status or message, for the report. */
  firstError: string | undefined;
  elapsedMs: number;
}

/** One pool of keep-alive connections per target address, kept across commands. */
const pools = new Map<string, ConnectionPool>();
let nextIndex = 0;

/** The pool for `target`'s server, now allowed `maxConnections`. */
function poolFor(target: TargetSpec, maxConnections: number): ConnectionPool {
  const url = new URL(target.url);
  let pool = pools.get(url.host);
  if (pool === undefined) {
    pool = new ConnectionPool(url);
    pools.set(url.host, pool);
  }
  pool.maxConnections = maxConnections;
  return pool;
}

function send(target: TargetSpec): Promise<number> {
  const url = new URL(target.url);
  const pool = pools.get(url.host);
  if (pool === undefined) throw new Error(`no connection pool for ${url.host}`);

  const body = target.bodyTemplate.replaceAll('{n}', String(nextIndex++));
  const request =
    `POST ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Authorization: Bearer ${target.token}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return pool.send(Buffer.from(request));
}

async function timed(target: TargetSpec, result: LoadResult, sentAt: number): Promise<void> {
  try {
    const status = await send(target);
    if (status >= 200 && status < 300) {
      result.latenciesMs.push(performance.now() - sentAt);
      result.completed++;
      return;
    }
    result.errors++;
    result.firstError ??= `HTTP ${status}`;
  } catch (error) {
    result.errors++;
    result.firstError ??= error instanceof Error ? error.message : String(error);
  }
}

async function closedLoop(
  target: TargetSpec,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const result: LoadResult = {
    latenciesMs: [],
    completed: 0,
    errors: 0,
    firstError: undefined,
    elapsedMs: 0,
  };
  poolFor(target, concurrency);
  const start = performance.now();
  const end = start + durationMs;
  const client = async () => {
    while (performance.now() < end) await timed(target, result, performance.now());
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  result.elapsedMs = performance.now() - start;
  return result;
}

async function openLoop({
  target,
  ratePerSecond,
  durationMs,
  connections,
}: Extract<LoadCommand, { kind: 'open' }>): Promise<LoadResult> {
  const result: LoadResult = {
    latenciesMs: [],
    completed: 0,
    errors: 0,
    firstError: undefined,
    elapsedMs: 0,
  };
  poolFor(target, connections);
  const intervalMs = 1000 / ratePerSecond;
  const count = Math.floor(durationMs / intervalMs);
  const start = performance.now();
  const pending: Promise<void>[] = [];

  for (let i = 0; i < count; i++) {
    const scheduled = start + i * intervalMs;
    // Never early; a late timer still counts the latency from `scheduled`.
    while (performance.now() < scheduled) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, scheduled - performance.now())),
      );
    }
    pending.push(timed(target, result, scheduled));
  }
  await Promise.all(pending);
  result.elapsedMs = performance.now() - start;
  return result;
}

parentPort?.on('message', (command: LoadCommand) => {
  const run =
    command.kind === 'closed'
      ? closedLoop(command.target, command.concurrency, command.durationMs)
      : openLoop(command);
  void run.then((result) => parentPort?.postMessage(result));
});
