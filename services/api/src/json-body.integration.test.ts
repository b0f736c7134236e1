import { request } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeHttpServer } from '@aso/shared';

import { jsonBodyLimit, parseJsonBody, requireJsonBody } from './json-body.ts';
import { problemFor, problemResponse } from './problem.ts';

const MAX_BYTES = 1_000;

let server: ServerType;
let port: number;
/** The status of every problem the app answered, whether or not the client got it. */
const problems: number[] = [];

/** The body limit and reader on a real Node server: its direct body read is what they rely on. */
beforeAll(async () => {
  const app = new Hono();
  app.post('/echo', jsonBodyLimit(MAX_BYTES, 'an echo'), async (c) => {
    requireJsonBody(c);
    return c.json(await parseJsonBody(c));
  });
  app.onError((error, c) => {
    const problem = problemFor(c, error);
    problems.push(problem.status);
    return problemResponse(c, problem);
  });

  server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
      resolve(started);
    });
  });
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await closeHttpServer(server);
});

/** Sends `chunks` with Content-Length when `declared`, else chunked. */
function send(
  chunks: string[],
  declared: boolean,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const length = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    ...extraHeaders,
  };
  if (declared) headers['content-length'] = length;

  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/echo', method: 'POST', headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('JSON request bodies on the Node server', () => {
  it('reads a body within the limit, declared or chunked', async () => {
    const body = JSON.stringify({ pod_name: 'tf-train-0', note: 'é'.repeat(10) });

    for (const declared of [true, false]) {
      const answer = await send([body.slice(0, 10), body.slice(10)], declared);
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual(JSON.parse(body));
    }
  });

  it('refuses a body over the limit with 413, declared or chunked', async () => {
    const large = JSON.stringify({ padding: 'x'.repeat(MAX_BYTES) });

    for (const declared of [true, false]) {
      const answer = await send([large.slice(0, 500), large.slice(500)], declared);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'payload-too-large' });
    }
  });

  it('refuses a body that is not JSON with 400', async () => {
    const answer = await send(['{"pod_name":'], true);

    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'invalid-request' });
  });

  it('refuses a compressed body with 415 rather than reading it as JSON', async () => {
    const answer = await send(['{}'], true, { 'content-encoding': 'gzip' });

    expect(answer.status).toBe(415);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'unsupported-media-type' });
  });

  it('counts a client that leaves before its whole body as 499, declared or chunked', async () => {
    const heads = [
      'Content-Length: 100\r\n\r\n{"pod',
      'Transfer-Encoding: chunked\r\n\r\n20\r\n{"pod',
    ];

    for (const head of heads) {
      problems.length = 0;
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));

      socket.write(
        `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${head}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();

      await expect.poll(() => problems, { timeout: 3_000 }).toEqual([499]);
    }
  });
});
