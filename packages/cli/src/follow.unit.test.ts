import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { ApiClient } from './api-client.ts';
import { EXIT } from './cli-error.ts';
import { followMigration } from './follow.ts';

const ID = '6f1c2d3e-0000-4000-8000-000000000002';

/** One event as the API writes it on the wire. */
function frame(id: string | null, type: string): string {
  const data = JSON.stringify({
    type,
    migration_id: ID,
    at: '2026-12-04T21:00:00Z',
    stage: null,
    status: 'running',
    message: type,
  });
  return `${id === null ? '' : `id: ${id}\n`}event: ${type}\ndata: ${data}\n\n`;
}

let server: Server | undefined;

afterEach(async () => {
  await new Promise((done) => server?.close(done));
  server = undefined;
});

/** A loopback server that answers each connection with the next handler. */
async function serve(
  handlers: ((req: IncomingMessage, res: ServerResponse) => void)[],
): Promise<{ client: ApiClient; seen: (string | undefined)[] }> {
  const seen: (string | undefined)[] = [];
  server = createServer((req, res) => {
    seen.push(req.headers['last-event-id'] as string | undefined);
    const handler = handlers[seen.length - 1];
    if (handler) handler(req, res);
    else res.destroy();
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const client = new ApiClient({
    apiUrl: `http://127.0.0.1:${port}`,
    token: 't',
    tokenSource: 'a test',
  });
  return { client, seen };
}

function streamHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

const QUICK = { retryDelaysMs: [10], idleTimeoutMs: 2_000 };

describe('following a migration', () => {
  it('reconnects with Last-Event-ID after a drop and misses nothing', async () => {
    const { client, seen } = await serve([
      (_req, res) => {
        streamHead(res);
        res.write(frame('1-0', 'accepted') + frame('2-0', 'stage-started'));
        // The connection drops before the migration ends.
        setTimeout(() => res.destroy(), 20);
      },
      (_req, res) => {
        streamHead(res);
        res.end(frame('3-0', 'stage-finished') + frame('4-0', 'completed'));
      },
    ]);
    const types: string[] = [];
    const reconnects: number[] = [];

    const end = await followMigration(client, ID, (event) => types.push(event.type), {
      ...QUICK,
      onReconnect: (attempt) => reconnects.push(attempt),
    });

    expect(end.type).toBe('completed');
    expect(types).toEqual(['accepted', 'stage-started', 'stage-finished', 'completed']);
    expect(seen).toEqual([undefined, '2-0']);
    expect(reconnects).toEqual([1]);
  });

  it('reconnects when a stream ends cleanly before the terminal event', async () => {
    const { client, seen } = await serve([
      (_req, res) => {
        streamHead(res);
        res.end(frame('1-0', 'accepted'));
      },
      (_req, res) => {
        streamHead(res);
        res.end(frame(null, 'failed'));
      },
    ]);

    const end = await followMigration(client, ID, () => undefined, QUICK);
    expect(end.type).toBe('failed');
    expect(seen).toEqual([undefined, '1-0']);
  });

  it('gives up after too many drops in a row, naming the migration', async () => {
    const { client } = await serve([]);
    const attempt = followMigration(client, ID, () => undefined, { ...QUICK, maxReconnects: 2 });

    await expect(attempt).rejects.toMatchObject({
      exitCode: EXIT.unavailable,
      message: expect.stringMatching(
        new RegExp(`lost the event stream of migration ${ID} 3 times`),
      ) as unknown,
    });
  });

  it('waits out a 429 as Retry-After asks, without counting it as a lost stream', async () => {
    const limited = (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '1' });
      res.end(JSON.stringify({ status: 429, code: 'rate-limited', detail: 'too many requests' }));
    };
    const { client, seen } = await serve([
      (_req, res) => {
        streamHead(res);
        res.end(frame('1-0', 'accepted'));
      },
      limited,
      limited,
      (_req, res) => {
        streamHead(res);
        res.end(frame('2-0', 'completed'));
      },
    ]);
    const waits: number[] = [];
    const started = Date.now();

    const end = await followMigration(client, ID, () => undefined, {
      ...QUICK,
      maxReconnects: 1,
      onRateLimited: (waitMs) => waits.push(waitMs),
    });

    expect(end.type).toBe('completed');
    expect(waits).toEqual([1_000, 1_000]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(seen).toEqual([undefined, '1-0', '1-0', '1-0']);
  });

  it('stops at once when the API refuses, with its problem detail', async () => {
    const { client, seen } = await serve([
      (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(
          JSON.stringify({
            status: 404,
            code: 'migration-not-found',
            detail: `no migration with id ${ID}`,
          }),
        );
      },
    ]);
    const attempt = followMigration(client, ID, () => undefined, QUICK);

    await expect(attempt).rejects.toMatchObject({
      exitCode: EXIT.refused,
      message: `no migration with id ${ID} (migration-not-found, HTTP 404)`,
    });
    expect(seen).toHaveLength(1);
  });

  it('treats a silent connection as dropped', async () => {
    const { client, seen } = await serve([
      (_req, res) => {
        streamHead(res);
        res.write(': heartbeat\n\n');
      },
      (_req, res) => {
        streamHead(res);
        res.end(frame('9-0', 'completed'));
      },
    ]);
    const reasons: string[] = [];

    await followMigration(client, ID, () => undefined, {
      retryDelaysMs: [10],
      idleTimeoutMs: 200,
      onReconnect: (_attempt, reason) => reasons.push(reason),
    });
    expect(reasons).toEqual(['no data for 0.2 s']);
    expect(seen).toHaveLength(2);
  });
});
