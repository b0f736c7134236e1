import { Writable } from 'node:stream';

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

import { createLogger } from '@aso/shared';

import type { ApiEnv } from './deps.ts';
import { logAbout, startRequestLog } from './request-log.ts';

describe('request log', () => {
  it('makes each request logger a child of the gateway logger, with every field so far', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const base = createLogger('api-test', 'info', sink);
    const app = new Hono<ApiEnv>();
    const parents: unknown[] = [];
    app.get('/', (c) => {
      startRequestLog(c, base, 'r-1');
      logAbout(c, { tokenName: 'entry 1' });
      logAbout(c, { migrationId: 'm-1', tokenName: 'entry 2' });
      parents.push(Object.getPrototypeOf(c.get('log')));
      c.get('log').info('done');
      return c.body(null, 204);
    });

    await app.request('/');

    // Never a child of a child: that would make a per-request logger a prototype.
    expect(parents).toEqual([base]);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      requestId: 'r-1',
      tokenName: 'entry 2',
      migrationId: 'm-1',
      msg: 'done',
    });
    expect(lines[0]?.match(/"tokenName":/g)).toHaveLength(1);
  });
});
