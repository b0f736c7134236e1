import { CliError, EXIT, type ProblemDetails } from './cli-error.ts';
import type { Connection } from './connection.ts';
import { RateLimitedError, retryAfterMs } from './rate-limit.ts';

/** A request the API does not answer within this is reported as unavailable. */
export const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export type Fetch = typeof fetch;

/**
 * The REST API as the CLI uses it. Every failure becomes a CliError whose message
 * a person can act on: the API's own problem detail, the URL that did not answer,
 * or which token was refused.
 */
export class ApiClient {
  readonly connection: Connection;
  private readonly fetchImpl: Fetch;

  constructor(connection: Connection, fetchImpl: Fetch = fetch) {
    this.connection = connection;
    this.fetchImpl = fetchImpl;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.send(path, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });

    const text = await response.text();
    if (!response.ok) throw this.refusal(response, text);
    return {
      status: response.status,
      body: parseJson(text, response.status) as T,
      headers: response.headers,
    };
  }

  get<T>(path: string): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path);
  }

  /**
   * Opens an event stream. Answers other than 2xx throw as `request` does; the body
   * is the caller's to read and cancel.
   */
  async openStream(
    path: string,
    lastEventId: string | null,
    signal: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== null) headers['last-event-id'] = lastEventId;

    const response = await this.send(path, { method: 'GET', headers, signal });
    if (!response.ok) throw this.refusal(response, await response.text());
    return response;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const url = `${this.connection.apiUrl}${path}`;
    const headers = {
      ...(init.headers as Record<string, string>),
      authorization: `Bearer ${this.connection.token}`,
    };
    try {
      return await this.fetchImpl(url, { ...init, headers });
    } catch (error) {
      throw unreachable(this.connection.apiUrl, error);
    }
  }

  private refusal(response: Response, text: string): CliError {
    const problem = problemOf(response.status, text);
    const { tokenSource, apiUrl } = this.connection;

    if (response.status === 401) {
      return new CliError(
        EXIT.refused,
        `the API at ${apiUrl} does not accept the token from ${tokenSource}: ${problem.detail}`,
        problem,
      );
    }
    if (response.status === 403) {
      return new CliError(
        EXIT.refused,
        `the token from ${tokenSource} is not allowed to do this: ${problem.detail}`,
        problem,
      );
    }
    if (response.status === 429) {
      const waitMs = retryAfterMs(response.headers.get('retry-after'));
      return new RateLimitedError(describeProblem(problem), problem, waitMs);
    }
    const exitCode = response.status >= 500 ? EXIT.unavailable : EXIT.refused;
    return new CliError(exitCode, describeProblem(problem), problem);
  }
}

/** "detail (code)" plus each invalid field on a line of its own. */
export function describeProblem(problem: ProblemDetails): string {
  const fields = (problem.errors ?? [])
    .filter((field) => !problem.detail.includes(field.message))
    .map((field) => `\n  ${field.field}: ${field.message}`);
  return `${problem.detail} (${problem.code}, HTTP ${problem.status})${fields.join('')}`;
}

/** The API's problem+json, or what can be said of an answer that is not one. */
export function problemOf(status: number, text: string): ProblemDetails {
  const parsed = safeJson(text);
  if (isProblem(parsed)) return parsed;

  const excerpt = text.trim().slice(0, 200);
  return {
    status,
    code: `http-${status}`,
    detail:
      excerpt === ''
        ? `the API answered HTTP ${status}`
        : `the API answered HTTP ${status}: ${excerpt}`,
  };
}

function isProblem(value: unknown): value is ProblemDetails {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate['code'] === 'string' &&
    typeof candidate['detail'] === 'string' &&
    typeof candidate['status'] === 'number'
  );
}

/** Connection refused, DNS failure, timeout: the cause names which. */
export function unreachable(apiUrl: string, error: unknown): CliError {
  const reason = networkReason(error);
  return new CliError(
    EXIT.unavailable,
    `cannot reach the API at ${apiUrl}: ${reason}. Is it running (npm start)? ` +
      'Point --api-url or ASO_API_URL at it otherwise.',
  );
}

function networkReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause =
    error instanceof Error
      ? (error.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function parseJson(text: string, status: number): unknown {
  const parsed = safeJson(text);
  if (parsed === undefined) {
    throw new CliError(
      EXIT.unavailable,
      `the API answered HTTP ${status} with a body that is not JSON`,
    );
  }
  return parsed;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
