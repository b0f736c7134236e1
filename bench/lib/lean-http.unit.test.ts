import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { ConnectionPool, IDLE_LIMIT_MS, parseAnswer } from './lean-http.ts';

const answer = (text: string) => parseAnswer(Buffer.from(text, 'latin1'));

describe('parseAnswer', () => {
  it('reads an answer framed by Content-Length, and waits for all of its body', () => {
    const head =
      'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n';

    expect(answer(`${head}{"a":1`)).toBe('incomplete');
    expect(answer(`${head}{"a":1}HTTP/1.1`)).toEqual({
      status: 202,
      length: head.length + 7,
      close: false,
    });
  });

  it('reads a 204 without a body and notes a connection the server closes', () => {
    const text = 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n';

    expect(answer(text)).toEqual({ status: 204, length: text.length, close: true });
  });

  it('reads a chunked body to its last chunk', () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n';

    expect(answer(head + body.slice(0, -2))).toBe('incomplete');
    expect(answer(head + body)).toEqual({
      status: 200,
      length: head.length + body.length,
      close: false,
    });
  });

  it('waits for the whole head, and refuses what is not HTTP or has no framing', () => {
    expect(answer('HTTP/1.1 200 OK\r\nContent-Len')).toBe('incomplete');
    expect(answer('SSH-2.0-x\r\n\r\n')).toBeInstanceOf(Error);
    expect(answer('HTTP/1.1 200 OK\r\n\r\nbody')).toBeInstanceOf(Error);
  });
});

describe('ConnectionPool', () => {
  let server: Server | undefined;

  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('sends every request over at most maxConnections, the others waiting their turn', async () => {
    const seen = { sockets: new Set<unknown>(), busy: 0, mostBusy: 0 };
    server = slowServer(seen);
    const port = await listening(server);
    const pool = new ConnectionPool(new URL(`http://127.0.0.1:${port}`), 3);
    const request = get(port);

    const statuses = await Promise.all(Array.from({ length: 20 }, () => pool.send(request)));
    pool.close();

    expect(statuses).toEqual(Array.from({ length: 20 }, () => 204));
    expect(seen.sockets.size).toBe(3);
    expect(seen.mostBusy).toBe(3);
  });

  it('closes connections above a lowered bound, least recently used first', async () => {
    const seen = { sockets: new Set<unknown>(), busy: 0, mostBusy: 0 };
    server = slowServer(seen);
    const port = await listening(server);
    const pool = new ConnectionPool(new URL(`http://127.0.0.1:${port}`), 8);
    const request = get(port);
    await Promise.all(Array.from({ length: 8 }, () => pool.send(request)));

    pool.maxConnections = 2;
    seen.mostBusy = 0;
    await Promise.all(Array.from({ length: 8 }, () => pool.send(request)));
    pool.close();

    expect(seen.mostBusy).toBe(2);
  });

  it('opens a new connection rather than reuse one idle past the limit', async () => {
    const sockets = new Set<unknown>();
    server = createServer((request, response) => {
      sockets.add(request.socket);
      response.writeHead(204).end();
    });
    const port = await listening(server);
    const pool = new ConnectionPool(new URL(`http://127.0.0.1:${port}`), 4);

    await pool.send(get(port));
    await pool.send(get(port));
    const now = performance.now.bind(performance);
    vi.spyOn(performance, 'now').mockImplementation(() => now() + IDLE_LIMIT_MS);
    await pool.send(get(port));
    vi.restoreAllMocks();
    pool.close();

    expect(sockets.size).toBe(2);
  });

  it('refuses a bound below one connection instead of waiting forever', () => {
    const url = new URL('http://127.0.0.1:9');

    expect(() => new ConnectionPool(url, 0)).toThrow('at least one connection');
    const pool = new ConnectionPool(url, 2);
    expect(() => {
      pool.maxConnections = 0;
    }).toThrow('at least one connection');
    expect(pool.maxConnections).toBe(2);
  });
});

/** Answers 204 after 5 ms, counting the sockets it saw and the most requests it held at once. */
function slowServer(seen: { sockets: Set<unknown>; busy: number; mostBusy: number }): Server {
  return createServer((request, response) => {
    seen.sockets.add(request.socket);
    seen.busy++;
    seen.mostBusy = Math.max(seen.mostBusy, seen.busy);
    setTimeout(() => {
      seen.busy--;
      response.writeHead(204).end();
    }, 5);
  });
}

function get(port: number): Buffer {
  return Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
