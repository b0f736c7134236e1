/**
 * A lean HTTP/1.1 client for the load generator: keep-alive connections over
 * node:net, one request at a time on each, the request written as one buffer and the
 * answer read only as far as its status and framing (Content-Length, chunked, or
 * none for 204 and 304). node:http's client costs about as much CPU per request as
 * the server it measures; on a machine of two cores that CPU is taken from the
 * server, the Redis server and the runtime's collector alike, and shows up in the
 * tail of every side. Loopback only: no TLS, no redirects, no proxies.
 */
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');
const LINE_END = Buffer.from('\r\n');

/** Longest wait for an answer: a server that never answers fails the request, not the run. */
const ANSWER_TIMEOUT_MS = 30_000;

/**
 * Longest a connection is left idle before it is closed rather than used: under the
 * five seconds after which Node's HTTP server closes an idle connection, so that no
 * request goes out on a connection the server is closing at that moment (the server
 * would not read it, and the request would fail). Re-sending such a request instead
 * could send twice one that the server did read.
 */
export const IDLE_LIMIT_MS = 4_000;

/** A connection that sends one request and reads its answer at a time. */
class Connection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private pending:
    | { resolve: (status: number) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
    | undefined;
  closed = false;
  /** performance.now() when the last answer came, or the connection was opened. */
  idleSince = performance.now();

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.readAnswer();
    });
    // The server's end of an idle connection: no request may go out on it any more.
    this.socket.on('end', () => {
      this.closed = true;
    });
    this.socket.on('error', (error) => {
      this.fail(error);
    });
    this.socket.on('close', () => {
      this.fail(new Error('the server closed the connection'));
    });
  }

  send(request: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
      }, ANSWER_TIMEOUT_MS);
      this.pending = { resolve, reject, timer };
      this.socket.write(request);
    });
  }

  private fail(error: Error): void {
    this.closed = true;
    const pending = this.pending;
    if (pending === undefined) return;

    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  close(): void {
    this.socket.destroy();
  }

  /** Completes the pending request once its whole answer is buffered. */
  private readAnswer(): void {
    const answer = parseAnswer(this.buffered);
    if (answer === 'incomplete') return;
    if (answer instanceof Error) {
      this.socket.destroy(answer);
      return;
    }

    this.buffered = this.buffered.subarray(answer.length);
    this.idleSince = performance.now();
    if (answer.close) {
      this.closed = true;
      this.socket.end();
    }
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    pending.resolve(answer.status);
  }
}

interface Answer {
  status: number;
  /** Bytes of the buffer the answer takes, head and body. */
  length: number;
  close: boolean;
}

/** The answer at the start of `data`, 'incomplete' until all of it has arrived. */
export function parseAnswer(data: Buffer): Answer | 'incomplete' | Error {
  const headEnd = data.indexOf(HEADER_END);
  if (headEnd < 0) return 'incomplete';

  const head = data.toString('latin1', 0, headEnd);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return new Error(`not an HTTP answer: "${statusLine}"`);

  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const close = headers.get('connection')?.toLowerCase() === 'close';
  const bodyStart = headEnd + HEADER_END.length;

  if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, length: bodyStart, close };
  }
  if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
    const end = chunkedBodyEnd(data, bodyStart);
    return end === undefined ? 'incomplete' : { status, length: end, close };
  }
  const declared = headers.get('content-length');
  if (declared === undefined) return new Error('an answer with neither length nor chunks');
  const end = bodyStart + Number(declared);
  return data.length < end ? 'incomplete' : { status, length: end, close };
}

/** Where a chunked body that starts at `start` ends, once all of it is buffered. */
function chunkedBodyEnd(data: Buffer, start: number): number | undefined {
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf(LINE_END, at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
    if (size === 0) {
      // No trailers are sent to the generator: the last chunk is followed by one CRLF.
      const end = lineEnd + 2 * LINE_END.length;
      return data.length < end ? undefined : end;
    }
    at = lineEnd + LINE_END.length + size + LINE_END.length;
    if (data.length < at) return undefined;
  }
}

/**
 * Keep-alive connections to one server, each used by one request at a time, at
 * most `maxConnections` of them: a request that finds them all busy waits for the
 * first to come free, as it would behind a client's own pool (and as wrk2 keeps a
 * fixed set of connections). Without a bound, every stall of the server would
 * make the pool open as many new connections as requests came due meanwhile, and
 * the server would then spend its time accepting them and, once idle, closing
 * them all together.
 */
export class ConnectionPool {
  /** Most recently used last, so that few connections stay warm. */
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: ((connection: Connection) => void)[] = [];
  private readonly host: string;
  private readonly port: number;
  /** Connections made and not yet seen closed, idle or busy. */
  private open = 0;
  private bound: number;

  constructor(url: URL, maxConnections = Number.POSITIVE_INFINITY) {
    this.host = url.hostname;
    this.port = Number(url.port);
    this.bound = requireBound(maxConnections);
  }

  get maxConnections(): number {
    return this.bound;
  }

  /** A lower bound than before closes the least recently used connections first. */
  set maxConnections(value: number) {
    this.bound = requireBound(value);
  }

  close(): void {
    this.idle.length = 0;
    for (const connection of this.all) connection.close();
  }

  async send(request: Buffer): Promise<number> {
    const connection = await this.acquire();
    try {
      return await connection.send(request);
    } finally {
      this.release(connection);
    }
  }

  private acquire(): Connection | Promise<Connection> {
    while (this.open > this.maxConnections && this.idle.length > 0) {
      this.retire(this.idle.shift());
    }
    const oldest = performance.now() - IDLE_LIMIT_MS;
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (!connection.closed && connection.idleSince > oldest) return connection;
      this.retire(connection);
    }
    if (this.open < this.maxConnections) return this.connect();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(connection: Connection): void {
    if (connection.closed || this.open > this.maxConnections) {
      this.retire(connection);
      if (this.open < this.maxConnections) this.waiting.shift()?.(this.connect());
      return;
    }
    const next = this.waiting.shift();
    if (next) next(connection);
    else this.idle.push(connection);
  }

  private connect(): Connection {
    const connection = new Connection(this.host, this.port);
    this.open++;
    this.all.add(connection);
    return connection;
  }

  private retire(connection: Connection | undefined): void {
    if (connection === undefined) return;
    connection.close();
    this.all.delete(connection);
    this.open--;
  }
}

function requireBound(maxConnections: number): number {
  if (!(maxConnections >= 1)) {
    throw new Error(`a pool needs at least one connection, not ${maxConnections}`);
  }
  return maxConnections;
}
