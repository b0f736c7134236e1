import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { BATCH_POLL_MS } from './batch-commands.ts';
import { EXIT } from './cli-error.ts';
import { main } from './main.ts';

const ID = '6f1c2d3e-0000-4000-8000-000000000004';

class Collected extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let server: Server | undefined;

afterEach(async () => {
  const running = server;
  server = undefined;
  if (!running) return;
  running.closeAllConnections();
  await new Promise((done) => running.close(done));
});

/**
 * A stand-in API on loopback: accepts a migration, then streams one event and
 * keeps the stream open, as a migration still at work would.
 */
async function apiStillWorking(): Promise<string> {
  server = createServer((req, res) => {
    if (req.method === 'POST') {
      res.writeHead(202, { 'content-type': 'application/json' });
      const request = {
        pod_name: 'p',
        pod_namespace: 'default',
        source_node: 'a',
        target_node: 'b',
      };
      res.end(JSON.stringify({ migration_id: ID, request }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = {
      type: 'accepted',
      migration_id: ID,
      at: '2026-12-04T21:00:00Z',
      stage: null,
      status: 'pending',
      message: 'migration accepted',
    };
    res.write(`id: 1-0\nevent: accepted\ndata: ${JSON.stringify(event)}\n\n`);
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An API without the event stream (an older version): the record is all there is. */
async function apiWithoutEvents(): Promise<string> {
  let reads = 0;
  const record = (status: string, message: string) => ({
    migration_id: ID,
    status,
    stage: status === 'completed' ? null : 'pod',
    message,
    updated_at: '2026-12-04T21:00:05.000Z',
    duration_ms: 5_000,
    request: { pod_name: 'p', pod_namespace: 'default', source_node: 'a', target_node: 'b' },
    details: { new_pod_name: null, strategy: null, warnings: [], savings: null },
    error: null,
  });
  server = createServer((req, res) => {
    const json = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST') {
      json(202, record('pending', 'migration queued'));
      return;
    }
    if (req.url?.endsWith('/events')) {
      const detail = `no route for GET ${req.url}`;
      json(404, { status: 404, code: 'route-not-found', detail }, 'application/problem+json');
      return;
    }
    reads += 1;
    json(
      200,
      reads < 2
        ? record('running', 'creating the new pod')
        : record('completed', 'migration completed'),
    );
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * A drain that the API first refuses to show (429, the token's minute used up) and
 * then shows completed; it notes when each read came.
 */
async function apiRateLimitingDrain(readsAt: number[]): Promise<string> {
  const drain = (status: string) => ({
    batch_id: ID,
    kind: 'drain',
    status,
    created_at: '2026-12-04T21:00:00Z',
    max_in_flight: 1,
    target_node: 'any',
    selection: { node: 'worker-1' },
    members: [],
    drain: { node: 'worker-1', left: [] },
    summary: { members: 0, by_status: {} },
  });
  server = createServer((req, res) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST') {
      json(202, drain('running'));
      return;
    }
    readsAt.push(Date.now());
    if (readsAt.length < 3) {
      const problem = { status: 429, code: 'rate-limited', detail: 'too many requests' };
      json(429, problem, { 'retry-after': '1' });
      return;
    }
    json(200, drain('completed'));
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function runtime(apiUrl: string, signal?: AbortSignal) {
  const stdout = new Collected();
  const stderr = new Collected();
  const env = { ASO_API_URL: apiUrl, ASO_API_TOKEN: 'unit-test-token' };
  return { stdout, stderr, env, ...(signal && { signal }) };
}

describe('aso as a whole', () => {
  it('stops following on Ctrl-C with exit code 130 and says the migration goes on', async () => {
    const interrupt = new AbortController();
    const io = runtime(await apiStillWorking(), interrupt.signal);
    const running = main(['migrate', 'p', '--to', 'b'], io);

    await new Promise((done) => setTimeout(done, 200));
    interrupt.abort(new Error('stopped following on Ctrl-C; the migration goes on'));

    expect(await running).toBe(EXIT.interrupted);
    expect(io.stdout.text).toContain('accepted          migration accepted');
    expect(io.stderr.text).toBe('aso: stopped following on Ctrl-C; the migration goes on\n');
  });

  it('reads the record instead when the API has no event stream', async () => {
    const io = runtime(await apiWithoutEvents());

    expect(await main(['migrate', 'p', '--to', 'b'], io)).toBe(EXIT.ok);
    expect(io.stderr.text).toMatch(
      /^aso: no route for GET .*\/events \(route-not-found, HTTP 404\); reading the migration's record instead\n$/,
    );
    expect(io.stdout.text.split('\n').slice(1)).toEqual([
      '21:00:05 pod running: creating the new pod',
      '21:00:05 - completed: migration completed',
      'completed in 5.0 s',
      'savings    not known yet',
      '',
    ]);
  });

  it('follows a drain through 429s as Retry-After asks, saying so once', async () => {
    const readsAt: number[] = [];
    const io = runtime(await apiRateLimitingDrain(readsAt));
    const started = Date.now();

    expect(await main(['drain', 'worker-1'], io)).toBe(EXIT.ok);

    expect(io.stderr.text).toBe(
      "aso: the API limits this token's requests (HTTP 429); waiting 1 s as it asks, " +
        'then following on; the work goes on meanwhile\n',
    );
    // The first read comes a poll interval after the start, each next one a Retry-After later.
    expect(readsAt).toHaveLength(3);
    expect((readsAt[0] ?? 0) - started).toBeGreaterThanOrEqual(BATCH_POLL_MS - 50);
    expect((readsAt[2] ?? 0) - (readsAt[1] ?? 0)).toBeGreaterThanOrEqual(950);
    expect(io.stdout.text).toMatch(/drain 6f1c2d3e-0000-4000-8000-000000000004 completed\n$/);
  });

  it('answers a usage error as one JSON document when JSON was asked for', async () => {
    const io = runtime('http://127.0.0.1:9');

    expect(await main(['list', '--limit', '0', '-o', 'json'], io)).toBe(EXIT.usage);
    expect(JSON.parse(io.stdout.text)).toEqual({
      error: { message: '--limit must be a whole number from 1 to 500, not "0"', exit_code: 2 },
    });
  });

  it('exits 2 with the usage when no command is given, and for an id that is no UUID', async () => {
    const bare = runtime('http://127.0.0.1:9');
    expect(await main([], bare)).toBe(EXIT.usage);
    expect(bare.stderr.text).toMatch(/^aso: a command is missing; usage: aso COMMAND/);

    const malformed = runtime('http://127.0.0.1:9');
    expect(await main(['get', 'nonexist'], malformed)).toBe(EXIT.usage);
    expect(malformed.stderr.text).toMatch(/^aso: "nonexist" is not a migration id/);
  });

  it('prints help without needing a token or an API', async () => {
    const io = { stdout: new Collected(), stderr: new Collected(), env: {} };

    expect(await main(['drain', '--help'], io)).toBe(EXIT.ok);
    expect(io.stdout.text).toMatch(/^usage: aso drain NODE/);
  });
});
