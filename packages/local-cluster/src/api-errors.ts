import { ApiException } from '@kubernetes/client-node';

/** HTTP status of a failed client-node call, or undefined for transport errors. */
export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof ApiException) {
    return error.code;
  }

  return undefined;
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

/** 409: AlreadyExists on create, or a failed precondition / stale resourceVersion. */
export function isConflict(error: unknown): boolean {
  return statusCodeOf(error) === 409;
}

/** A short message for logs: the Status message from the body when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiException) {
    return `HTTP ${error.code}: ${statusMessage(error.body) ?? 'no message'}`;
  }

  return error instanceof Error ? error.message : String(error);
}

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') {
    return undefined;
  }

  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}

/** Runs a write and treats "the object is already gone" as success. */
export async function ignoreNotFound(write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (!isNotFound(error)) {
      throw error;
    }
  }
}

/** Runs a create and treats "it already exists" as success, which keeps setup idempotent. */
export async function ignoreAlreadyExists(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!isConflict(error)) {
      throw error;
    }
  }
}
