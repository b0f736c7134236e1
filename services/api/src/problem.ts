import type { Context } from 'hono';

import {
  MigrationInProgressError,
  OrchestratorError,
  ValidationError,
  type FieldError,
} from '@aso/shared';

/** An RFC 9457 problem document, the one error shape of the HTTP API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
  errors?: FieldError[];
  /** The migration already in progress, on a 409 migration-in-progress. */
  migration_id?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemFor(c: Context, error: unknown): Problem {
  if (error instanceof MigrationInProgressError) {
    return { ...buildProblem(c, 409, error.code, error.message), migration_id: error.migrationId };
  }
  if (error instanceof OrchestratorError) {
    return buildProblem(c, error.status, error.code, error.message, fieldsOf(error));
  }
  return buildProblem(c, 500, 'internal-error', 'an unexpected error occurred; see the server log');
}

export function buildProblem(
  c: Context,
  status: number,
  code: string,
  detail: string,
  errors?: FieldError[],
): Problem {
  return {
    type: `urn:aso:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: c.req.path,
    code,
    request_id: c.get('requestId'),
    ...(errors ? { errors } : {}),
  };
}

export function problemResponse(c: Context, problem: Problem): Response {
  return c.body(JSON.stringify(problem), problem.status as 400, {
    'content-type': 'application/problem+json',
  });
}

/** The per-field (or per-member) reasons an error carries, when it has any. */
function fieldsOf(error: OrchestratorError): FieldError[] | undefined {
  if (error instanceof ValidationError) return error.fields;
  const fields = (error as { fields?: unknown }).fields;
  return Array.isArray(fields) ? (fields as FieldError[]) : undefined;
}
