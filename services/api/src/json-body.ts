import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

import {
  ClientClosedRequestError,
  OrchestratorError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '@aso/shared';

/** Refuses a body over `maxBytes` unread, with a 413 problem naming what was expected. */
export function jsonBodyLimit(maxBytes: number, what: string): MiddlewareHandler {
  const tooLarge = () => {
    throw new PayloadTooLargeError(
      `the request body is larger than ${maxBytes} bytes; ${what} is a small JSON object`,
    );
  };
  const streamedLimit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });

  return async function limitBody(c, next) {
    // A declared length is checked from the header alone. hono's bodyLimit would first
    // turn the request body into a web stream, and the Node server's direct read of
    // the body (several times cheaper) would be lost for the handler.
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) {
      // hono's bodyLimit reads a chunked body itself: a client leaving midway ends there.
      try {
        return await streamedLimit(c, next);
      } catch (error) {
        throw clientClosedOr(error);
      }
    }

    if (Number(length) > maxBytes) tooLarge();
    await next();
  };
}

/** application/json or a +json type, not compressed, else 415. */
export function requireJsonBody(c: Context): void {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(?:[\w.+-]*\+)?json\b/i.test(type.trim())) {
    throw new UnsupportedMediaTypeError(
      `send the request as application/json (got ${type === '' ? 'no content type' : type})`,
    );
  }

  // A compressed body would be read as if it were plain JSON: refused, not guessed at.
  const encoding = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    throw new UnsupportedMediaTypeError(
      `send the request body uncompressed (got Content-Encoding: ${encoding})`,
    );
  }
}

export async function parseJsonBody(c: Context): Promise<unknown> {
  const text = await readBody(c);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('the request body must be a JSON object', [
      { field: 'body', message: 'the request body is not valid JSON' },
    ]);
  }
}

async function readBody(c: Context): Promise<string> {
  try {
    return await c.req.text();
  } catch (error) {
    throw clientClosedOr(error);
  }
}

/**
 * A body cut short becomes ClientClosedRequestError; anything else is left as it is.
 * Node's own request timeout ends a body the same way (it has answered 408 by then).
 */
function clientClosedOr(error: unknown): unknown {
  if (error instanceof OrchestratorError || !clientWentAway(error)) return error;
  return new ClientClosedRequestError(
    'the request body did not arrive whole: the client left, or the request timeout ended it',
    { cause: error },
  );
}

/** How Node's server reports a body cut short: the socket reset or the request aborted. */
function clientWentAway(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    error.name === 'AbortError' ||
    error.message === 'aborted' ||
    error.message === 'Client connection prematurely closed.'
  );
}
