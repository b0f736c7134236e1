import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { REDACTED, withoutCredentials, withoutCredentialsInText } from './log-credentials.ts';
import { createLogger } from './logger.ts';

/** A logger whose lines are kept, parsed, for the test to read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger('test', 'info', sink), lines };
}

class KubeRequestError extends Error {
  readonly options: { headers: Record<string, string>; url: string };

  constructor(options: { headers: Record<string, string>; url: string }) {
    super('the request failed');
    this.options = options;
  }
}

describe('log lines never carry a credential', () => {
  it('redacts credential-named keys at any depth, whatever their case, and keeps the rest', () => {
    const { logger, lines } = capturedLogger();
    const fields = {
      request: { headers: { Authorization: 'Bearer secret-1', cookie: 'session=secret-2' } },
      redis: { password: 'secret-3', host: 'redis' },
      targets: [{ token: 'secret-4', name: 'a' }],
    };

    logger.info(fields, 'calling');

    const text = JSON.stringify(lines[0]);
    expect(text).not.toMatch(/secret-\d/);
    expect(lines[0]).toMatchObject({
      request: { headers: { Authorization: REDACTED, cookie: REDACTED } },
      redis: { password: REDACTED, host: 'redis' },
      targets: [{ token: REDACTED, name: 'a' }],
      msg: 'calling',
    });
    // The caller's own objects are left as they were.
    expect(fields.request.headers.Authorization).toBe('Bearer secret-1');
  });

  it('serialises an error that holds a credential once, with its type, message and stack', () => {
    const { logger, lines } = capturedLogger();
    const error = new KubeRequestError({
      headers: { authorization: 'Bearer secret-5' },
      url: 'https://kube/api',
    });

    logger.error({ err: error }, 'failed');
    logger.warn({ cause: error }, 'under another key');

    expect(JSON.stringify(lines)).not.toContain('secret-5');
    for (const [index, key] of [
      [0, 'err'],
      [1, 'cause'],
    ] as const) {
      expect(lines[index]?.[key]).toMatchObject({
        type: 'KubeRequestError',
        message: 'the request failed',
        stack: expect.stringContaining('the request failed') as unknown,
        options: { headers: { authorization: REDACTED }, url: 'https://kube/api' },
      });
    }
    expect(error.options.headers['authorization']).toBe('Bearer secret-5');
  });

  it("scrubs a child logger's bindings", () => {
    const { logger, lines } = capturedLogger();

    const request = logger.child({ requestId: 'r-1' });
    request.child({ auth: { token: 'secret-6' }, tokenName: 'ci' }).info('bound');

    expect(JSON.stringify(lines[0])).not.toContain('secret-6');
    // A grandchild keeps its parent's bindings.
    expect(lines[0]).toMatchObject({
      requestId: 'r-1',
      auth: { token: REDACTED },
      tokenName: 'ci',
    });
  });

  it('returns the same object when there is nothing to redact, and leaves absent values absent', () => {
    const plain = { method: 'POST', path: '/api/v1/migrations', nested: { status: 202 } };
    expect(withoutCredentials(plain)).toBe(plain);

    expect(withoutCredentials({ token: undefined, password: '' })).toEqual({
      token: undefined,
      password: '',
    });
  });

  it('ends on a cycle', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;

    expect(withoutCredentials(cyclic)).toBe(cyclic);
  });

  it('catches credential names by their ending, and leaves names that only start alike', () => {
    const fields = {
      accessToken: 'secret-7',
      'x-api-key': 'secret-8',
      clientSecret: 'secret-9',
      'client-key-data': 'secret-10',
      'set-cookie': ['a=secret-11'],
      tokenName: 'ci',
    };

    expect(withoutCredentials(fields)).toEqual({
      accessToken: REDACTED,
      'x-api-key': REDACTED,
      clientSecret: REDACTED,
      'client-key-data': REDACTED,
      'set-cookie': REDACTED,
      tokenName: 'ci',
    });
  });

  it('replaces credentials inside text: URL user info, quoted header fields, bearer tokens', () => {
    const { logger, lines } = capturedLogger();
    const quotingHeaders = new Error(
      'HTTP-Code: 401 Headers: {"set-cookie":["s=secret-12"],"content-type":"application/json"}',
    );

    logger.warn(
      { url: 'redis://user:secret-13@redis:6379/0' },
      'Authorization: Bearer secret-14-0123456789',
    );
    logger.error({ err: quotingHeaders }, 'failed');

    expect(JSON.stringify(lines)).not.toMatch(/secret-1[234]/);
    expect(lines[0]).toMatchObject({
      url: 'redis://[redacted]@redis:6379/0',
      msg: 'Authorization: Bearer [redacted]',
    });
    expect(lines[1]?.['err']).toMatchObject({
      type: 'Error',
      message:
        'HTTP-Code: 401 Headers: {"set-cookie":"[redacted]","content-type":"application/json"}',
    });
  });

  it('writes no field of an object whose getter throws, instead of failing the log call', () => {
    const { logger, lines } = capturedLogger();
    const broken = {
      token: 'secret-15',
      get detail(): string {
        throw new Error('not readable');
      },
    };

    logger.info({ broken }, 'still logged');

    expect(lines[0]).toMatchObject({ logFieldsUnreadable: 'not readable', msg: 'still logged' });
    expect(JSON.stringify(lines[0])).not.toContain('secret-15');
  });

  it('scrubs bindings set after the child was made', () => {
    const { logger, lines } = capturedLogger();
    const child = logger.child({ requestId: 'r-2' });

    child.setBindings({ password: 'secret-16' });
    child.info('rebound');

    expect(JSON.stringify(lines[0])).not.toContain('secret-16');
  });

  it("scrubs the messages of an error's causes, which pino appends to its own", () => {
    const { logger, lines } = capturedLogger();
    const cause = new Error('HTTP-Code: 401 Headers: {"set-cookie":["session=secret-17"]}');
    const wrapped = new Error('the Kubernetes API refused the request', { cause });

    logger.warn({ err: wrapped }, 'stage attempt failed');

    expect(JSON.stringify(lines[0])).not.toContain('secret-17');
    expect(lines[0]?.['err']).toMatchObject({
      message: expect.stringContaining('the Kubernetes API refused the request') as unknown,
    });
  });

  it('keeps flags, and searches objects, under credential-like names', () => {
    const spec = {
      automountServiceAccountToken: false,
      volumes: [{ name: 'db', secret: { secretName: 'db-creds' } }],
    };

    expect(withoutCredentials(spec)).toBe(spec);
  });

  it('leaves the words "bearer token" in a sentence alone', () => {
    const text = 'the bearer token is not valid';

    expect(withoutCredentialsInText(text)).toBe(text);
  });

  it('scrubs long hostile text in one pass (no backtracking from every letter)', () => {
    // Scanned from every letter, this text took seconds: past the test's time-out.
    const hostile = `/${'a-'.repeat(200_000)}_://@`;

    expect(withoutCredentialsInText(hostile)).toBe(hostile);
    expect(withoutCredentialsInText('see a-b://user:pw@host/x')).toBe(
      'see a-b://[redacted]@host/x',
    );
  });
});
