import { Writable } from 'node:stream';

import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';

import { createLogger } from '@aso/shared';

import type { ApiEnv } from './deps.ts';
import { logAbout, requestLog, startRequestLog } from './request-log.ts';

describe('request log', () => {
  it('logs with a child of the gateway logger holding every field added so far', async () => {
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
      requestLog(c).info('started');
      logAbout(c, { tokenName: 'entry 1' });
      requestLog(c).info('token checked');
      logAbout(c, { migrationId: 'm-1', tokenName: 'entry 2' });
      parents.push(Object.getPrototypeOf(requestLog(c)));
      requestLog(c).info('done');
      return c.body(null, 204);
    });

    await app.request('/');

    // Never a child of a child: that would make a per-request logger a prototype.
    expect(parents).toEqual([base]);
    const [started, checked, done] = lines.map((line) => JSON.parse(line) as object);
    expect(started).toMatchObject({ requestId: 'r-1', msg: 'started' });
    expect(started).not.toHaveProperty('tokenName');
    expect(checked).toMatchObject({ requestId: 'r-1', tokenName: 'entry 1' });
    expect(done).toMatchObject({ requestId: 'r-1', tokenName: 'entry 2', migrationId: 'm-1' });
    expect(lines[2]?.match(/"tokenName":/g)).toHaveLength(1);
  });
});
