import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@aso/shared';

/** Refuses a body over `maxBytes` unread, with a 413 problem naming what was expected. */
export function jsonBodyLimit(maxBytes: number, what: string) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(
        `the request body is larger than ${maxBytes} bytes; ${what} is a small JSON object`,
      );
    },
  });
}

/** application/json or a +json type, else 415. */
export function requireJsonBody(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new UnsupportedMediaTypeError(
      `send the request as application/json (got ${type === '' ? 'no content type' : type})`,
    );
  }
}

export async function parseJsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('the request body must be a JSON object', [
      { field: 'body', message: 'the request body is not valid JSON' },
    ]);
  }
}
